/**
 * Every policy of the pack, in the order of issue #3. Tests and the in-process runner import
 * this list; only ../index.ts hands it to `new PolicyPack` (which starts a gRPC server).
 */
import type { PackPolicy } from "../lib/policy";
import {
  authorizationWithinDeclaredFlows,
  meshedNamespaceAuthorization,
  ztunnelL4Only,
} from "./ambient-authorization";
import { calicoPolicySpecific } from "./calico-policy-specific";
import { deadPeer, deadPeerOutage } from "./dead-peers";
import { declaredConnectivity } from "./declared-connectivity";
import { dnsOverTcp } from "./dns-over-tcp";
import { dnsAndSemantics } from "./dns-and-semantics";
import { explicitPolicyTypes } from "./explicit-policy-types";
import { immutableNamespaceLabel } from "./immutable-namespace-label";
import { ingressFromAnywhereEdgeOnly } from "./ingress-from-anywhere-edge-only";
import { internetEgressExceptsPrivate } from "./internet-egress-excepts-private";
import { kubeApiEgressPaired } from "./kube-api-egress-paired";
import { kubernetesProtocolsOnly } from "./kubernetes-protocols-only";
import { missingCorners } from "./missing-corners";
import { hboneOutsideMesh, meshHboneRequired } from "./mesh-hbone";
import { namespaceBaselineDenyAll } from "./namespace-baseline-deny-all";
import { noAllNamespacesSelector } from "./no-all-namespaces-selector";
import { oneBaselinePerNamespace } from "./one-baseline-per-namespace";
import { rulesNamePorts } from "./rules-name-ports";
import { unnamedConnections } from "./unnamed-connections";
import { shadowedRulesPolicy } from "./shadowed-rules";

export const PACK_NAME = "zt-netpol-guard";

export const policies: readonly PackPolicy[] = [
  namespaceBaselineDenyAll,
  explicitPolicyTypes,
  rulesNamePorts,
  noAllNamespacesSelector,
  immutableNamespaceLabel,
  dnsAndSemantics,
  internetEgressExceptsPrivate,
  ingressFromAnywhereEdgeOnly,
  kubernetesProtocolsOnly,
  calicoPolicySpecific,
  meshHboneRequired,
  hboneOutsideMesh,
  kubeApiEgressPaired,
  oneBaselinePerNamespace,
  declaredConnectivity,
  meshedNamespaceAuthorization,
  authorizationWithinDeclaredFlows,
  ztunnelL4Only,
  missingCorners,
  unnamedConnections,
  deadPeerOutage,
  deadPeer,
  dnsOverTcp,
  shadowedRulesPolicy,
];
