/*
 * The order jest starts test files in (jest.config.js's testSequencer): the
 * longest first, so that two workers finish together instead of one running
 * a long lab test alone at the end. jest's own sequencer orders by the
 * durations of the last run, kept in its cache; a fresh clone has none and
 * falls back to file size, which put etcd-day2 (125 lines, 90 s) last: 30 s
 * of one worker idle. Without a cached duration, a file takes its figure
 * below (seconds on the 2-core machine, `npx jest --json`; only the order
 * matters), other files a second or less by size.
 */
"use strict";
const Sequencer = require("@jest/test-sequencer").default;
const path = require("node:path");

const SECONDS = {
  "etcd-day2": 90,
  "failover-lab": 90,
  "etcd-discovery": 60,
  consumer: 45,
  "aws-terraform": 40,
  "hostile-strings": 34,
  "vagrant-lifecycle": 26,
  properties: 25,
  "ready-check": 23,
  "failover-policies": 22,
  "etcd-tls": 15,
  "etcd-cluster": 13,
  vagrant: 10,
  "reboot-lock": 9,
  "topology-browser": 8,
  "front-failover": 8,
};

class LongestFirst extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const name = path.basename(test.path, ".test.ts");
    const seconds = SECONDS[name] ?? Math.min(1, test.context.hasteFS.getSize(test.path) / 1e5);
    return seconds * 1000;
  }
}

module.exports = LongestFirst;
