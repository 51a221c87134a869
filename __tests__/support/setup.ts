// Synthesis must never depend on the machine: no telemetry lookups in tests.
process.env.CHECKPOINT_DISABLE = "1";
