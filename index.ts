import { ClusterProtection } from "./components/clusterProtection";
import { readPulumiStackConfig } from "./config/load";

// Validation throws before any resource is registered, naming the bad config key.
const config = readPulumiStackConfig();
const cluster = new ClusterProtection(config.cluster.name, config);

export const protectedNamespaces = Object.keys(cluster.namespaces);
export const connectionCount = cluster.connections.length;
