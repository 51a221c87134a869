/** What the library app and the baseline app of `npm run bench` share: targets, sizes, the network. */

/** What one run synthesizes. */
export const BENCH_TARGETS = ["vagrant", "vagrant-null", "aws"] as const;
export type BenchTarget = (typeof BENCH_TARGETS)[number];

/** The one stack of every run. */
export const BENCH_STACK = "bench";

/** The AWS stack's own network: /20 subnets hold 5,000 nodes from host number 10. */
export const BENCH_AWS = {
  vpcCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"],
  firstHostNumber: 10,
} as const;

/** A service of the user's on every node (main.ts has one too). */
export const BENCH_UNIT = {
  name: "web.service",
  contents: [
    "[Unit]",
    "Description=web: a static page on port 8080",
    "After=docker.service",
    "Requires=docker.service",
    "",
    "[Service]",
    "ExecStart=/usr/bin/docker run --rm --name web --publish 8080:80 docker.io/library/nginx:1.27",
    "Restart=always",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n"),
};

/** BENCH_TARGET and BENCH_NODES of this process. */
export function benchTarget(): { target: BenchTarget; nodes: number } {
  const target = process.env.BENCH_TARGET as BenchTarget;
  const nodes = Number(process.env.BENCH_NODES);
  if (!BENCH_TARGETS.includes(target) || !Number.isInteger(nodes) || nodes < 1) {
    throw new Error(
      `BENCH_TARGET (${BENCH_TARGETS.join(" | ")}) and BENCH_NODES (a whole number) must be set`,
    );
  }
  return { target, nodes };
}
