import { IssueCollector } from "../core/errors";

/** A member as the record keeps it. */
export interface RecordedMember {
  readonly name: string;
  readonly address: string;
}

/**
 * What the state folder remembers of a cluster's etcd between synths
 * (`etcd-membership.json`): the members it was bootstrapped with (fixed for
 * the cluster's life: their static settings and the endpoints every node
 * knows stay the same whatever `etcd.members` becomes), and the members and
 * nodes of the last synth (to refuse a change that would lose quorum).
 */
export interface MembershipRecord {
  readonly bootstrap: readonly RecordedMember[];
  readonly members: readonly string[];
  readonly nodes: readonly string[];
}

/** File name of the record inside the cluster's state folder. */
export const MEMBERSHIP_RECORD = "etcd-membership.json";

/** Reads a record; undefined when there is none (the first synth of the cluster). */
export function parseMembershipRecord(text: string | undefined): MembershipRecord | undefined {
  if (text === undefined) return undefined;
  const r = JSON.parse(text) as MembershipRecord;
  if (!Array.isArray(r.bootstrap) || !Array.isArray(r.members) || !Array.isArray(r.nodes)) {
    throw new Error(`${MEMBERSHIP_RECORD} is not a membership record: ${text.slice(0, 80)}`);
  }
  return r;
}

export function renderMembershipRecord(r: MembershipRecord): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

interface NodeLike {
  readonly name: string;
  readonly address: string;
  readonly etcdMember: boolean;
}

/**
 * The bootstrap members (from the record, or the members now on the first
 * synth) and the checks of a membership change against the last synth. etcd
 * membership changes one member at a time through the cluster's own API (the
 * nodes' join and leave scripts), so the checks refuse what that path cannot
 * do without losing quorum or data.
 */
export function planMembership(
  issues: IssueCollector,
  nodes: readonly NodeLike[],
  previous: MembershipRecord | undefined,
  recordFile: string,
): { bootstrap: readonly RecordedMember[]; record: MembershipRecord } {
  const members = nodes.filter((n) => n.etcdMember);
  const record = (bootstrap: readonly RecordedMember[]): MembershipRecord => ({
    bootstrap,
    members: members.map((m) => m.name),
    nodes: nodes.map((n) => n.name),
  });
  if (!previous) {
    const bootstrap = members.map((m) => ({ name: m.name, address: m.address }));
    return { bootstrap, record: record(bootstrap) };
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const b of previous.bootstrap) {
    const now = byName.get(b.name);
    if (now && now.address !== b.address) {
      issues.add(
        "networkCidr / subnetCidrs / firstHostNumber",
        `${b.name} at ${now.address}`,
        `the addresses of the etcd cluster's members as they are (${b.name} is at ${b.address}): etcd members cannot move; a new address plan is a new cluster (destroy it and delete ${recordFile} first)`,
      );
    }
  }
  const gone = previous.members.filter((m) => !byName.has(m));
  if (gone.length > 0) {
    issues.add(
      "nodeCount",
      nodes.length,
      `a count that keeps the etcd members of the last synth (${gone.join(", ")} would go with their member entries still in etcd): lower etcd.members first and deploy, then nodeCount (if the cluster was destroyed, delete ${recordFile} first)`,
    );
  }
  const before = previous.members.length;
  if (members.length === 1 && before >= 3) {
    issues.add(
      "etcd.members",
      members.length,
      `3 or more while the cluster has ${before} members: going from 2 members to 1 needs both, and each step removes a member whose node is already replaced, so quorum would be lost; shrink to 3 at most`,
    );
  }
  return { bootstrap: previous.bootstrap, record: record(previous.bootstrap) };
}
