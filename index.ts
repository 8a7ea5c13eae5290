import * as pulumi from "@pulumi/pulumi";
import { ClusterProtection } from "./components/clusterProtection";
import { stackConfigFromEngine } from "./config/load";
import { stackConfigWarnings } from "./config/validate";

// Validation throws before any resource is registered, naming the bad config key.
const config = stackConfigFromEngine(pulumi.runtime.allConfig());
for (const warning of stackConfigWarnings(config)) void pulumi.log.warn(warning);
const cluster = new ClusterProtection(config.cluster.name, config);

export const protectedNamespaces = Object.keys(cluster.namespaces);
export const connectionCount = cluster.connections.length;
