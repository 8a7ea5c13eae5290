import * as pulumi from "@pulumi/pulumi";
import { ClusterProtection } from "./components/clusterProtection";
import { stackConfigFromEngine } from "./config/load";

// Validation throws before any resource is registered, naming the bad config key.
const config = stackConfigFromEngine(pulumi.runtime.allConfig());
const cluster = new ClusterProtection(config.cluster.name, config);

export const protectedNamespaces = Object.keys(cluster.namespaces);
export const connectionCount = cluster.connections.length;
