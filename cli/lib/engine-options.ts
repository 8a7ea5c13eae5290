/**
 * The engine switches every CLI that evaluates manifests shares (explain, diff, matrix), with one
 * spelling: `--ipblock-matches-pods true|false` and the ambient mesh flags.
 *
 * The mesh comes from the flags, else from the cluster facts (`--stack`/`--facts`: mesh settings
 * and the meshed namespaces), else from the input: a Namespace labelled
 * `istio.io/dataplane-mode: ambient` is meshed (Istio's documented enrolment,
 * https://istio.io/latest/docs/ambient/usage/add-workloads/), with Istio's defaults for the rest
 * (istio-system, HBONE on 15008, kubelet probes SNATed to 169.254.7.127), and a note says so.
 */
import { type Command, Option } from "commander";
import { type EngineOptions, parseIpv4, type SourcedObject } from "../../engine";
import type { ClusterFacts } from "../../policypack/lib/facts";
import { integerArgument, UsageError } from "./program";

export const AMBIENT_LABEL = "istio.io/dataplane-mode";
export const ISTIO_DEFAULT_MESH = {
  namespace: "istio-system",
  hbonePort: 15008,
  probeSource: "169.254.7.127",
} as const;

export interface EngineFlags {
  readonly ipblockMatchesPods?: "true" | "false";
  readonly meshNamespace?: string;
  readonly hbonePort?: number;
  readonly probeSource?: string;
  readonly meshedNamespaces?: string;
  readonly trustDomain?: string;
  readonly portPreserving?: "true" | "false";
}

export function addEngineOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--ipblock-matches-pods <bool>",
        "whether ipBlocks match pod IPs (Calico: true; upstream Kubernetes reading: false)",
      ).choices(["true", "false"]),
    )
    .addOption(
      new Option(
        "--mesh-namespace <ns>",
        "Istio ambient: the mesh namespace (default: istio-system when a Namespace in the input is labelled istio.io/dataplane-mode=ambient)",
      ),
    )
    .addOption(
      new Option("--hbone-port <port>", "Istio ambient: the HBONE port (default 15008)").argParser(
        (value) => {
          const port = integerArgument("--hbone-port")(value);
          if (port < 1 || port > 65535) throw new UsageError(`--hbone-port ${value}: not a port`);
          return port;
        },
      ),
    )
    .addOption(
      new Option(
        "--probe-source <ip>",
        "Istio ambient: the address kubelet probes come from (default 169.254.7.127)",
      ).argParser((value) => {
        if (parseIpv4(value.replace(/\/32$/, "")) === undefined)
          throw new UsageError(`--probe-source ${value}: not an IPv4 address`);
        return value;
      }),
    )
    .addOption(
      new Option(
        "--meshed-namespaces <a,b>",
        "Istio ambient: namespaces to treat as meshed besides the labelled ones",
      ),
    )
    .addOption(
      new Option(
        "--trust-domain <td>",
        "Istio ambient: the trust domain of source principals (default cluster.local)",
      ),
    )
    .addOption(
      new Option(
        "--port-preserving <bool>",
        "Istio ambient: the ztunnel keeps the original destination port, so the CNI sees it (Calico 3.32's bundled ztunnel)",
      ).choices(["true", "false"]),
    );
}

function ambientNamespaces(objects: readonly SourcedObject[]): string[] {
  const out: string[] = [];
  for (const { object } of objects) {
    if (object.kind !== "Namespace") continue;
    const metadata = object.metadata as { name?: unknown; labels?: Record<string, unknown> };
    if (metadata?.labels?.[AMBIENT_LABEL] === "ambient" && typeof metadata.name === "string")
      out.push(metadata.name);
  }
  return [...new Set(out)];
}

/** Engine options from the flags, the cluster facts and the input; `notes` says what was inferred. */
export function engineOptionsFrom(
  flags: EngineFlags,
  objects: readonly SourcedObject[],
  facts?: Partial<ClusterFacts>,
  factsFrom = "the cluster facts",
): { options: EngineOptions; notes: string[] } {
  const notes: string[] = [];
  const ipBlockMatchesPods =
    flags.ipblockMatchesPods === undefined ? undefined : flags.ipblockMatchesPods === "true";
  const meshed = flags.meshedNamespaces?.split(",").filter(Boolean);
  const labelled = ambientNamespaces(objects);
  const meshGiven =
    flags.meshNamespace !== undefined ||
    flags.hbonePort !== undefined ||
    flags.probeSource !== undefined ||
    flags.trustDomain !== undefined ||
    flags.portPreserving !== undefined ||
    meshed !== undefined;
  const factsMesh = facts?.mesh;
  if (!meshGiven && factsMesh === null) {
    if (labelled.length > 0)
      notes.push(
        `${factsFrom} says the cluster has no mesh: the ${AMBIENT_LABEL}=ambient label of ${labelled.join(", ")} is not modelled`,
      );
    return { options: { ipBlockMatchesPods }, notes };
  }
  if (!meshGiven && factsMesh) {
    notes.push(`mesh from ${factsFrom}: ${factsMesh.namespace}, HBONE ${factsMesh.hbonePort}`);
    return {
      options: {
        ipBlockMatchesPods,
        mesh: {
          namespace: factsMesh.namespace,
          hbonePort: factsMesh.hbonePort,
          probeSource: factsMesh.probeSource.replace(/\/32$/, ""),
          meshedNamespaces: [...(facts?.meshedNamespaces ?? [])],
          ...(factsMesh.trustDomain !== undefined ? { trustDomain: factsMesh.trustDomain } : {}),
          ...(factsMesh.portPreserving !== undefined
            ? { portPreserving: factsMesh.portPreserving }
            : {}),
        },
      },
      notes,
    };
  }
  if (!meshGiven && labelled.length === 0) return { options: { ipBlockMatchesPods }, notes };
  if (!meshGiven)
    notes.push(
      `meshed (labelled ${AMBIENT_LABEL}=ambient): ${labelled.join(", ")}; mesh ${ISTIO_DEFAULT_MESH.namespace}, HBONE ${ISTIO_DEFAULT_MESH.hbonePort}, probe source ${ISTIO_DEFAULT_MESH.probeSource} (Istio's defaults; --mesh-namespace, --hbone-port, --probe-source or --stack/--facts change them)`,
    );
  return {
    options: {
      ipBlockMatchesPods,
      mesh: {
        namespace: flags.meshNamespace ?? ISTIO_DEFAULT_MESH.namespace,
        hbonePort: flags.hbonePort ?? ISTIO_DEFAULT_MESH.hbonePort,
        probeSource: flags.probeSource ?? ISTIO_DEFAULT_MESH.probeSource,
        meshedNamespaces: meshed,
        trustDomain: flags.trustDomain,
        portPreserving:
          flags.portPreserving === undefined ? undefined : flags.portPreserving === "true",
      },
    },
    notes,
  };
}
