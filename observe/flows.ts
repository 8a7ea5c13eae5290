/**
 * Readers for observed traffic, each into the same ObservedFlow records:
 *
 * - Calico Goldmane/Whisker: the whisker-backend `FlowResponse` JSON (projectcalico/calico
 *   `whisker-backend/pkg/apis/v1/flows.go`; fields from `goldmane/proto/api.proto` `Flow`/`FlowKey`:
 *   source/dest name, namespace, labels (`key=value` joined with " | "), protocol, dest_port,
 *   reporter Src/Dst, action Allow/Deny/Pass, `policies.enforced` / `policies.pending` hits).
 *   A JSON array, `{items: [...]}`, or one object per line.
 * - Hubble: `hubble observe -o json`, one `{"flow": {...}}` per line (cilium/cilium
 *   `api/v1/flow/flow.proto`: source/destination `Endpoint` {namespace, labels `k8s:key=value`,
 *   pod_name}, `IP` {source, destination}, `l4` {TCP|UDP|SCTP {destination_port}, ICMPv4},
 *   `verdict`, `is_reply`, `Type`, `time`). Replies and non-L3/L4 events are skipped (a reply is
 *   the same connection seen backwards).
 * - CSV: header `src_ns,src_labels,dst_ns|cidr,dst_labels,protocol,port,count`, labels written
 *   `key=value;key=value`; either end may be a CIDR or IPv4 address instead of a namespace.
 *
 * Anything that cannot be read is an error naming the file and the record (line or index) and
 * the field: a flow log is never half-read.
 */
import * as fs from "fs";

export type FlowProtocol = "TCP" | "UDP" | "SCTP" | "ICMP";
export type FlowFormat = "goldmane" | "hubble" | "csv";

export type ObservedEnd =
  | {
      readonly kind: "workload";
      readonly namespace: string;
      readonly labels: Readonly<Record<string, string>>;
    }
  /** An address or block outside the pod network. */
  | { readonly kind: "external"; readonly cidr: string }
  /** Goldmane's aggregate "pub" network: some public address, not which one. */
  | { readonly kind: "public" }
  /** Something the engine cannot place (Goldmane "pvt", a host endpoint, Hubble reserved:host). */
  | { readonly kind: "unplaceable"; readonly what: string };

export interface PolicyHitSummary {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: string;
}

export interface ObservedFlow {
  readonly source: ObservedEnd;
  readonly destination: ObservedEnd;
  readonly protocol: FlowProtocol;
  /** Destination port; 0 for ICMP. */
  readonly port: number;
  readonly count: number;
  /** ISO timestamps when the format records them. */
  readonly first?: string;
  readonly last?: string;
  /** Where the record is: `file:line` or `file#index`. */
  readonly where: string;
  /** Goldmane only: which corner reported it, the enforced action, and the pending trace. */
  readonly reporter?: "Src" | "Dst";
  readonly action?: string;
  readonly pending?: readonly PolicyHitSummary[];
}

export class FlowLogError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`${problems.length} problem(s) reading the flow log:\n  - ${problems.join("\n  - ")}`);
    this.name = "FlowLogError";
  }
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/\d{1,2})?$/;

function protocolOf(raw: unknown): FlowProtocol | undefined {
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const text = String(raw).toUpperCase();
  const byNumber: Record<string, FlowProtocol> = {
    "6": "TCP",
    "17": "UDP",
    "132": "SCTP",
    "1": "ICMP",
  };
  if (text === "TCP" || text === "UDP" || text === "SCTP" || text === "ICMP") return text;
  return byNumber[text];
}

function validPort(protocol: FlowProtocol, port: unknown): port is number {
  if (protocol === "ICMP") return true;
  return typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
}

function parseLabelList(
  items: readonly string[],
  where: string,
  problems: string[],
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const text = item.trim();
    if (text === "") continue;
    const eq = text.indexOf("=");
    if (eq <= 0) {
      problems.push(`${where}: label ${JSON.stringify(text)} is not key=value`);
      continue;
    }
    labels[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return labels;
}

function isIpv4Block(text: string): boolean {
  const m = IPV4.exec(text);
  return (
    m !== null &&
    m.slice(1, 5).every((o) => Number(o) <= 255) &&
    (!m[5] || Number(m[5].slice(1)) <= 32)
  );
}

function asCidr(text: string): string {
  return text.includes("/") ? text : `${text}/32`;
}

// ---------- Goldmane / Whisker FlowResponse ----------

function goldmaneEnd(
  record: Raw,
  side: "source" | "dest",
  where: string,
  problems: string[],
): ObservedEnd | undefined {
  const name = record[`${side}_name`];
  const namespace = record[`${side}_namespace`];
  const labels = record[`${side}_labels`];
  if (name === "pub" || name === "PUBLIC NETWORK") return { kind: "public" };
  if (name === "pvt" || name === "PRIVATE NETWORK")
    return { kind: "unplaceable", what: "Goldmane's private network (no address recorded)" };
  if (
    typeof namespace !== "string" ||
    namespace === "" ||
    namespace === "-" ||
    namespace === "Global"
  ) {
    return {
      kind: "unplaceable",
      what: `${side} ${JSON.stringify(name)} outside any namespace (host endpoint or network set)`,
    };
  }
  if (typeof labels !== "string" && labels !== undefined) {
    problems.push(`${where}.${side}_labels: must be a string of "key=value | key=value"`);
    return undefined;
  }
  return {
    kind: "workload",
    namespace,
    labels: parseLabelList((labels ?? "").split("|"), `${where}.${side}_labels`, problems),
  };
}

function policyHits(raw: unknown, where: string, problems: string[]): PolicyHitSummary[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${where}: must be a list of policy hits`);
    return [];
  }
  return raw.flatMap((hit: unknown, i) => {
    if (!isObject(hit) || typeof hit.action !== "string") {
      problems.push(`${where}[${i}]: must be a policy hit with an action`);
      return [];
    }
    return [
      {
        kind: String(hit.kind ?? ""),
        namespace: String(hit.namespace ?? ""),
        name: String(hit.name ?? ""),
        action: hit.action,
      },
    ];
  });
}

function readGoldmaneRecord(
  record: unknown,
  where: string,
  problems: string[],
): ObservedFlow | undefined {
  if (!isObject(record)) {
    problems.push(`${where}: not a FlowResponse object`);
    return undefined;
  }
  const before = problems.length;
  const protocol = protocolOf(record.protocol);
  if (!protocol) problems.push(`${where}.protocol: unsupported ${JSON.stringify(record.protocol)}`);
  const port = record.dest_port;
  if (protocol && !validPort(protocol, port))
    problems.push(`${where}.dest_port: must be 1-65535, got ${JSON.stringify(port)}`);
  const source = goldmaneEnd(record, "source", where, problems);
  const destination = goldmaneEnd(record, "dest", where, problems);
  const reporter = record.reporter;
  if (reporter !== "Src" && reporter !== "Dst")
    problems.push(`${where}.reporter: must be Src or Dst, got ${JSON.stringify(reporter)}`);
  const policies = isObject(record.policies) ? record.policies : {};
  const pending = policyHits(policies.pending, `${where}.policies.pending`, problems);
  const started = Number(record.num_connections_started ?? 0);
  const count = Number.isInteger(started) && started > 0 ? started : 1;
  if (problems.length > before || !source || !destination || !protocol) return undefined;
  return {
    source,
    destination,
    protocol,
    port: protocol === "ICMP" ? 0 : (port as number),
    count,
    ...(typeof record.start_time === "string" ? { first: record.start_time } : {}),
    ...(typeof record.end_time === "string" ? { last: record.end_time } : {}),
    where,
    reporter: reporter as "Src" | "Dst",
    ...(typeof record.action === "string" ? { action: record.action } : {}),
    pending,
  };
}

/**
 * Whisker's list response (`{"total": …, "items": [...]}`, lib/httpmachinery `apiutil.List`), a
 * JSON array, a single record, or one record per line.
 */
function goldmaneRecords(
  text: string,
  file: string,
  problems: string[],
): { record: unknown; where: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return jsonLines(text, file, problems);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : isObject(parsed) && Array.isArray(parsed.items)
      ? parsed.items
      : [parsed];
  return list.map((record, i) => ({ record, where: `${file}#${i}` }));
}

function jsonLines(
  text: string,
  file: string,
  problems: string[],
): { record: unknown; where: string }[] {
  const out: { record: unknown; where: string }[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push({ record: JSON.parse(line), where: `${file}:${i + 1}` });
    } catch (error) {
      problems.push(`${file}:${i + 1}: not valid JSON: ${(error as Error).message}`);
    }
  });
  return out;
}

// ---------- Hubble ----------

/** Labels Cilium adds to the identity that are not the pod's own labels. */
function isPodLabel(key: string): boolean {
  return key !== "io.kubernetes.pod.namespace" && !key.startsWith("io.cilium.");
}

function hubbleEnd(
  endpoint: unknown,
  ip: unknown,
  where: string,
  problems: string[],
): ObservedEnd | undefined {
  const e = isObject(endpoint) ? endpoint : {};
  const labels = Array.isArray(e.labels)
    ? e.labels.filter((l): l is string => typeof l === "string")
    : [];
  if (typeof e.namespace === "string" && e.namespace !== "") {
    const own = labels.filter((l) => l.startsWith("k8s:")).map((l) => l.slice(4));
    const parsed = parseLabelList(own, `${where}.labels`, problems);
    return {
      kind: "workload",
      namespace: e.namespace,
      labels: Object.fromEntries(Object.entries(parsed).filter(([k]) => isPodLabel(k))),
    };
  }
  const reserved = labels.find((l) => l.startsWith("reserved:"));
  if (reserved && reserved !== "reserved:world")
    return { kind: "unplaceable", what: `Cilium identity ${reserved}` };
  if (typeof ip === "string" && isIpv4Block(ip)) return { kind: "external", cidr: asCidr(ip) };
  problems.push(`${where}: neither a namespace nor an IPv4 address (IPv6 is not modelled)`);
  return undefined;
}

function readHubbleRecord(
  record: unknown,
  where: string,
  problems: string[],
): ObservedFlow | undefined | "skip" {
  const flow = isObject(record) && isObject(record.flow) ? record.flow : undefined;
  if (!flow) {
    // hubble observe -o json also prints non-flow events (lost events, node status).
    if (isObject(record) && (record.lost_events || record.node_status)) return "skip";
    problems.push(`${where}: not a hubble observe flow ({"flow": {...}})`);
    return undefined;
  }
  if (flow.Type !== undefined && flow.Type !== "L3_L4") return "skip";
  const isReply = flow.is_reply;
  if (isReply === true) return "skip";
  const l4 = isObject(flow.l4) ? flow.l4 : {};
  let protocol: FlowProtocol | undefined;
  let port: unknown = 0;
  for (const name of ["TCP", "UDP", "SCTP"] as const) {
    if (isObject(l4[name])) {
      protocol = name;
      port = (l4[name] as Raw).destination_port;
    }
  }
  if (isObject(l4.ICMPv4)) protocol = "ICMP";
  if (isObject(l4.ICMPv6)) return "skip";
  if (!protocol) {
    problems.push(`${where}.flow.l4: no TCP, UDP, SCTP or ICMPv4 section`);
    return undefined;
  }
  if (
    isReply === undefined &&
    !(
      protocol === "TCP" &&
      isObject((l4.TCP as Raw).flags) &&
      ((l4.TCP as Raw).flags as Raw).SYN === true &&
      ((l4.TCP as Raw).flags as Raw).ACK !== true
    )
  ) {
    problems.push(`${where}.flow.is_reply: missing, so request and reply cannot be told apart`);
    return undefined;
  }
  if (!validPort(protocol, port)) {
    problems.push(
      `${where}.flow.l4.${protocol}.destination_port: must be 1-65535, got ${JSON.stringify(port)}`,
    );
    return undefined;
  }
  const ip = isObject(flow.IP) ? flow.IP : {};
  const source = hubbleEnd(flow.source, ip.source, `${where}.flow.source`, problems);
  const destination = hubbleEnd(
    flow.destination,
    ip.destination,
    `${where}.flow.destination`,
    problems,
  );
  if (!source || !destination) return undefined;
  const time = typeof flow.time === "string" ? flow.time : undefined;
  return {
    source,
    destination,
    protocol,
    port: protocol === "ICMP" ? 0 : (port as number),
    count: 1,
    ...(time ? { first: time, last: time } : {}),
    where,
    ...(typeof flow.verdict === "string" ? { action: flow.verdict } : {}),
  };
}

// ---------- CSV ----------

export const CSV_HEADER = "src_ns,src_labels,dst_ns|cidr,dst_labels,protocol,port,count";

function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(current);
      current = "";
    } else current += ch;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

function csvEnd(
  place: string,
  labels: string,
  where: string,
  problems: string[],
): ObservedEnd | undefined {
  if (isIpv4Block(place)) {
    if (labels !== "") problems.push(`${where}: labels on an address make no sense`);
    return { kind: "external", cidr: asCidr(place) };
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(place)) {
    problems.push(
      `${where}: ${JSON.stringify(place)} is neither a namespace name nor an IPv4 address/CIDR`,
    );
    return undefined;
  }
  return {
    kind: "workload",
    namespace: place,
    labels: parseLabelList(labels.split(";"), where, problems),
  };
}

function readCsv(text: string, file: string, problems: string[]): ObservedFlow[] {
  const lines = text.split("\n");
  const header = (lines[0] ?? "").trim();
  if (header !== CSV_HEADER) {
    problems.push(`${file}:1: header must be exactly ${CSV_HEADER}`);
    return [];
  }
  const out: ObservedFlow[] = [];
  lines.slice(1).forEach((line, i) => {
    const where = `${file}:${i + 2}`;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const fields = splitCsvLine(line);
    if (fields.length !== 7) {
      problems.push(`${where}: expected 7 fields, got ${fields.length}`);
      return;
    }
    const [srcNs, srcLabels, dst, dstLabels, protocolText, portText, countText] = fields;
    const before = problems.length;
    const protocol = protocolOf(protocolText);
    if (!protocol) problems.push(`${where}.protocol: unsupported ${JSON.stringify(protocolText)}`);
    const port = protocol === "ICMP" && portText === "" ? 0 : Number(portText);
    if (protocol && !validPort(protocol, port))
      problems.push(`${where}.port: must be 1-65535, got ${JSON.stringify(portText)}`);
    const count = Number(countText);
    if (!Number.isInteger(count) || count < 1)
      problems.push(`${where}.count: must be a positive integer`);
    const source = csvEnd(srcNs, srcLabels, `${where}.src`, problems);
    const destination = csvEnd(dst, dstLabels, `${where}.dst`, problems);
    if (problems.length > before || !source || !destination || !protocol) return;
    out.push({ source, destination, protocol, port: protocol === "ICMP" ? 0 : port, count, where });
  });
  return out;
}

// ---------- entry ----------

/** Which format a file holds: by extension for CSV, by content for the JSON ones. */
export function detectFormat(file: string, text: string): FlowFormat {
  if (file.toLowerCase().endsWith(".csv") || text.trimStart().startsWith("src_ns,")) return "csv";
  const firstLine = text.trimStart().split("\n")[0] ?? "";
  if (/^\{\s*"flow"\s*:/.test(firstLine) || /"node_name"/.test(firstLine)) return "hubble";
  return "goldmane";
}

export interface FlowLog {
  readonly file: string;
  readonly format: FlowFormat;
  readonly flows: readonly ObservedFlow[];
  /** Records skipped on purpose (Hubble replies, L7 and non-flow events), counted. */
  readonly skipped: number;
}

export function readFlowText(
  text: string,
  file: string,
  format = detectFormat(file, text),
): FlowLog {
  const problems: string[] = [];
  let flows: ObservedFlow[] = [];
  let skipped = 0;
  if (format === "csv") flows = readCsv(text, file, problems);
  else {
    const records =
      format === "hubble" ? jsonLines(text, file, problems) : goldmaneRecords(text, file, problems);
    for (const { record, where } of records) {
      const flow =
        format === "hubble"
          ? readHubbleRecord(record, where, problems)
          : readGoldmaneRecord(record, where, problems);
      if (flow === "skip") skipped++;
      else if (flow) flows.push(flow);
    }
  }
  if (problems.length > 0) throw new FlowLogError(problems);
  if (flows.length === 0) throw new FlowLogError([`${file}: no flows in it (format ${format})`]);
  return { file, format, flows, skipped };
}

export function readFlowFile(file: string, format?: FlowFormat): FlowLog {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new FlowLogError([
      `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  return readFlowText(text, file, format);
}
