/**
 * A checked reading of a Calico `projectcalico.org/v3` NetworkPolicy / GlobalNetworkPolicy.
 *
 * Field names and defaults from the Calico NetworkPolicy resource reference
 * (https://docs.tigera.io/calico/latest/reference/resources/networkpolicy): `types` defaults like
 * Kubernetes `policyTypes` (Ingress, plus Egress when egress rules exist); an entity rule with no
 * nets/selectors matches every endpoint and address; `ports` only exist for TCP, UDP and SCTP.
 *
 * The Pulumi program registers these as CustomResources, whose type string is built from the
 * apiVersion and kind; `validateResourceOfType` cannot match a CustomResource class, so the
 * policies compare the type string.
 */
import { type Cidr, parseCidr } from "./cidr";
import { MalformedError } from "./errors";
import { type Json, readObject, readOptionalArray, readOptionalObject, readString } from "./read";

export const CALICO_NETWORK_POLICY_TYPE = "kubernetes:projectcalico.org/v3:NetworkPolicy";
export const CALICO_GLOBAL_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy";
export const CALICO_POLICY_TYPES = [CALICO_NETWORK_POLICY_TYPE, CALICO_GLOBAL_NETWORK_POLICY_TYPE];

export const CALICO_ACTIONS = ["Allow", "Deny", "Log", "Pass"] as const;
/** Protocols whose rules carry ports in Calico. */
export const PORTED_PROTOCOLS = new Set(["TCP", "UDP", "SCTP", "UDPLite"]);

export interface CalicoEntity {
  readonly path: string;
  readonly nets: readonly Cidr[];
  readonly notNets: readonly Cidr[];
  readonly selector?: string;
  readonly notSelector?: string;
  readonly namespaceSelector?: string;
  readonly ports: readonly unknown[];
  readonly hasServiceAccounts: boolean;
  readonly hasServices: boolean;
}

export interface CalicoRule {
  readonly path: string;
  readonly direction: "ingress" | "egress";
  readonly action: string;
  /** Upper-cased protocol name, or the number as text; absent means every protocol. */
  readonly protocol?: string;
  readonly source: CalicoEntity;
  readonly destination: CalicoEntity;
}

export interface CalicoPolicyModel {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly selector?: string;
  readonly types?: readonly string[];
  readonly ingress: readonly CalicoRule[];
  readonly egress: readonly CalicoRule[];
}

function readOptionalText(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new MalformedError(path, "expected a string");
  return value;
}

function readEntity(raw: unknown, path: string): CalicoEntity {
  const entity = readOptionalObject(raw, path) ?? {};
  const cidrs = (key: string): Cidr[] =>
    (readOptionalArray(entity[key], `${path}.${key}`) ?? []).map((n, i) =>
      parseCidr(n, `${path}.${key}[${i}]`, true),
    );
  return {
    path,
    nets: cidrs("nets"),
    notNets: cidrs("notNets"),
    selector: readOptionalText(entity.selector, `${path}.selector`),
    notSelector: readOptionalText(entity.notSelector, `${path}.notSelector`),
    namespaceSelector: readOptionalText(entity.namespaceSelector, `${path}.namespaceSelector`),
    ports: readOptionalArray(entity.ports, `${path}.ports`) ?? [],
    hasServiceAccounts: entity.serviceAccounts !== undefined && entity.serviceAccounts !== null,
    hasServices: entity.services !== undefined && entity.services !== null,
  };
}

function readRules(spec: Json, direction: "ingress" | "egress"): CalicoRule[] {
  return (readOptionalArray(spec[direction], `spec.${direction}`) ?? []).map((raw, i) => {
    const path = `spec.${direction}[${i}]`;
    const rule = readObject(raw, path);
    const action = readString(rule.action, `${path}.action`);
    if (!(CALICO_ACTIONS as readonly string[]).includes(action)) {
      throw new MalformedError(`${path}.action`, `expected one of ${CALICO_ACTIONS.join(", ")}`);
    }
    let protocol: string | undefined;
    if (typeof rule.protocol === "number") protocol = String(rule.protocol);
    else if (rule.protocol !== undefined && rule.protocol !== null) {
      protocol = readString(rule.protocol, `${path}.protocol`);
    }
    return {
      path,
      direction,
      action,
      protocol,
      source: readEntity(rule.source, `${path}.source`),
      destination: readEntity(rule.destination, `${path}.destination`),
    };
  });
}

export function readCalicoPolicy(props: unknown): CalicoPolicyModel {
  const object = readObject(props, "(object)");
  const metadata = readObject(object.metadata, "metadata");
  const kind = typeof object.kind === "string" ? object.kind : "NetworkPolicy";
  const spec = readObject(object.spec, "spec");
  const typesRaw = readOptionalArray(spec.types, "spec.types");
  const types = typesRaw?.map((t, i) => {
    if (t !== "Ingress" && t !== "Egress") {
      throw new MalformedError(
        `spec.types[${i}]`,
        `expected Ingress or Egress, got ${JSON.stringify(t)}`,
      );
    }
    return t;
  });
  return {
    kind,
    name: readString(metadata.name, "metadata.name"),
    namespace:
      kind === "GlobalNetworkPolicy"
        ? undefined
        : readString(metadata.namespace, "metadata.namespace"),
    selector: readOptionalText(spec.selector, "spec.selector"),
    types,
    ingress: readRules(spec, "ingress"),
    egress: readRules(spec, "egress"),
  };
}
