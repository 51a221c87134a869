import { ClusterConfigError } from "../../lib/core/errors";

/** The ClusterConfigError `fn` throws; any other error is thrown on, and throwing none fails. */
export function errorOf(fn: () => unknown): ClusterConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ClusterConfigError) return e;
    throw e;
  }
  throw new Error("no ClusterConfigError thrown");
}
