import { closeSandbox } from "./netns";
import { freshTestState, removeTestStates } from "./state";

// Synthesis must never depend on the machine: no telemetry lookups in tests.
process.env.CHECKPOINT_DISABLE = "1";
// Each test file keeps etcd certificates in its own copy of the fixture state folder,
// never in the project's .coreos-cluster/.
process.env.COREOS_CLUSTER_STATE_DIR = freshTestState();
afterAll(() => removeTestStates());
// Network namespaces a test file made (support/netns.ts) go with it.
afterAll(() => closeSandbox());
