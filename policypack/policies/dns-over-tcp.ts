/**
 * DNS over TCP (advisory): a DNS egress rule that allows UDP on the DNS port also allows TCP.
 *
 * A DNS answer that does not fit a UDP message comes back truncated (the TC bit), and the client
 * retries the query over TCP on the same port (RFC 1035 section 4.2.1; RFC 7766 makes TCP
 * support mandatory for resolvers and servers). With only UDP 53 allowed those retries are
 * dropped, so large answers (many A/AAAA records, long TXT or SRV sets, DNSSEC) fail while small
 * ones work: an intermittent outage that looks like a DNS server problem.
 *
 * Judged per policy: UDP on the DNS port to some peers, and no rule of the same policy allows
 * TCP on it to the same peers.
 */
import { allowsConnection } from "../../engine";
import { DNS_PORT } from "../lib/exposure";
import { factFor } from "../lib/facts";
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { peersKey } from "../lib/rules";

export const dnsOverTcp = resourcePolicy({
  name: "dns-over-tcp",
  description: "A DNS egress rule that allows UDP on the DNS port allows TCP on it too.",
  enforcementLevel: "advisory",
  prevents:
    "Lookups that fail only for large answers: a truncated UDP answer is retried over TCP 53, which the rule drops.",
  facts: ["dns"],
  withoutFacts: "the DNS port is 53",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts, plainYaml }) {
    const policy = readPolicy(subject.type, subject.props);
    const port = factFor(facts, "dns", plainYaml)?.port ?? DNS_PORT;
    const tcpPeers = new Set(
      policy.egress
        .filter((r) => allowsConnection(r.possibleConnections, "TCP", port))
        .map(peersKey),
    );
    const findings: Finding[] = [];
    for (const rule of policy.egress) {
      if (!allowsConnection(rule.possibleConnections, "UDP", port)) continue;
      if (tcpPeers.has(peersKey(rule)) || tcpPeers.has("any")) continue;
      findings.push(
        policyFinding(
          policy,
          `${rule.path}.ports`,
          `allows DNS on UDP ${port} but not TCP ${port}: an answer too large for UDP comes back truncated and the client retries over TCP ${port}, which is dropped, so large answers fail`,
          `add {protocol: TCP, port: ${port}} next to the UDP entry in ${rule.path}.ports`,
        ),
      );
    }
    return findings;
  },
});
