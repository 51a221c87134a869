import { Construct } from "constructs";
import { AppSettings } from "../config/settings";
import { targetKey, withSettings } from "../config/build";
import { AwsCluster, AwsClusterProps } from "./aws-cluster";

/**
 * The AwsCluster of the settings (their "aws" key), running `inputs.cluster`
 * and `inputs.front` in `inputs.network`; `inputs` may also override settings.
 * Issues are reported against the settings (see withSettings).
 */
export function awsClusterFromSettings(
  scope: Construct,
  id: string,
  settings: AppSettings,
  inputs: AwsClusterProps,
): AwsCluster {
  return withSettings(
    settings,
    targetKey("aws"),
    () => new AwsCluster(scope, id, { ...settings.aws, ...inputs }),
  );
}
