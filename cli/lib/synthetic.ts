/**
 * Synthetic inputs for `npm run bench`: a stack file of many namespaces (for the whole plan path)
 * and a large manifest set (for check). Deterministic, so runs compare.
 */
import { stringify } from "yaml";

export const appNamespace = (i: number): string => `app-${String(i).padStart(5, "0")}`;

/** Flow targets of namespace i: three others, spread so that every namespace gets about three in. */
export function flowTargets(i: number, size: number): number[] {
  return [...new Set([1, 7, 31].map((k) => (i + k) % size))].filter((t) => t !== i);
}

/**
 * `Pulumi.<stack>.yaml` text with `size` application namespaces (every other one in the ambient
 * mesh, every tenth on the Kubernetes API, each scraped on 9090) and three flows out of each
 * (web → api on 8080): about 3 × size flows.
 */
export function syntheticStackYaml(size: number): string {
  const namespaces: Record<string, unknown>[] = [
    { name: "kube-system", purpose: "CoreDNS", kubeApi: true },
    {
      name: "istio-system",
      purpose: "Mesh control plane",
      kubeApi: true,
      metricsPorts: [15014],
      webhookPorts: [15017],
      intraNamespace: [15012],
    },
    { name: "monitoring", purpose: "Prometheus", kubeApi: true },
  ];
  const flows: Record<string, unknown>[] = [];
  for (let i = 0; i < size; i++) {
    const name = appNamespace(i);
    namespaces.push({
      name,
      purpose: `Application ${i}`,
      meshed: i % 2 === 0,
      kubeApi: i % 10 === 0,
      metricsPorts: [9090],
    });
    for (const t of flowTargets(i, size))
      flows.push({
        name: `${name}-to-${appNamespace(t)}`,
        from: { namespace: name, podLabels: { app: "web" } },
        to: { namespace: appNamespace(t), podLabels: { app: "api" } },
        ports: [8080],
        reason: "Synthetic flow.",
      });
  }
  const config = {
    "zt-netpol:cluster": {
      name: `synthetic-${size}`,
      apiServer: { clusterIP: "10.96.0.1", port: 443 },
      controlPlane: { cidr: "10.0.10.0/24", port: 6443 },
      dns: {
        namespace: "kube-system",
        podLabels: { "k8s-app": "kube-dns" },
        port: 53,
        upstream: ["10.0.1.1/32"],
      },
      privateRanges: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
      monitoringNamespace: "monitoring",
      mesh: {
        namespace: "istio-system",
        hbonePort: 15008,
        istiodPorts: [15012, 15017],
        probeSource: "169.254.7.127/32",
      },
    },
    "zt-netpol:namespaces": namespaces,
    "zt-netpol:flows": flows,
  };
  return stringify({ config }, { lineWidth: 0 });
}
