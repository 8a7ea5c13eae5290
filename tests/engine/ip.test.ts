/** The project's one IP library (engine/model/ipv4.ts on ipaddr.js). */
import { strict as assert } from "assert";
import * as ipaddr from "ipaddr.js";
import {
  formatIpv4,
  formatIpv6,
  ipv6Size,
  NON_PUBLIC_IPV4,
  NON_PUBLIC_IPV6,
  RFC1918_CIDRS,
  parseCidr,
  parseIpv4,
  parseIpv6Cidr,
  parseStrictCidr,
  subtractIpv6,
} from "../../engine/model/ipv4";
import { normaliseCidr } from "../../config/net";

describe("IP library", () => {
  it("reads IPv4 in four-part decimal only, as the API server does", () => {
    assert.equal(parseIpv4("10.0.1.204"), 0x0a0001cc);
    for (const text of ["10.1", "0x0a.0.0.1", "256.0.0.1", "10.0.0.1 ", ""])
      assert.equal(parseIpv4(text), undefined, text);
  });

  it("masks host bits of a CIDR, and refuses them in stack config", () => {
    assert.deepEqual(parseCidr("10.0.0.5/8"), { lo: 0x0a000000, hi: 0x0affffff });
    assert.equal(parseStrictCidr("10.0.0.5/8"), undefined);
    assert.deepEqual(parseStrictCidr("10.0.0.0/8"), { lo: 0x0a000000, hi: 0x0affffff });
    assert.equal(parseCidr("10.0.0.1", false), undefined);
    assert.deepEqual(parseCidr("10.0.0.1"), { lo: 0x0a000001, hi: 0x0a000001 });
    assert.equal(parseCidr("10.0.0.0/33"), undefined);
    assert.equal(normaliseCidr("10.0.1.1"), "10.0.1.1/32");
    assert.equal(normaliseCidr("10.0.1.1/24"), undefined);
  });

  it("reads IPv6 CIDRs and does range arithmetic on them", () => {
    const all = parseIpv6Cidr("::/0");
    assert.ok(all);
    assert.equal(ipv6Size([all]), 1n << 128n);
    const doc = parseIpv6Cidr("2001:db8::1/32");
    assert.equal(doc && formatIpv6(doc.lo), "2001:db8::");
    assert.equal(parseIpv6Cidr("2001:db8::/129"), undefined);
    assert.equal(parseIpv6Cidr("fe80::1%eth0/64"), undefined);
    const rest = subtractIpv6([all], [parseIpv6Cidr("::/1")!]);
    assert.equal(ipv6Size(rest), 1n << 127n);
  });

  it("lists as non-public exactly the IPv6 blocks ipaddr.js classifies as special", () => {
    const expected: Record<string, string> = {
      "::": "unspecified",
      "::1": "loopback",
      "::ffff:0:0": "ipv4Mapped",
      "fc00::": "uniqueLocal",
      "fe80::": "linkLocal",
      "ff00::": "multicast",
    };
    const seen = NON_PUBLIC_IPV6.map((r) => formatIpv6(r.lo));
    assert.deepEqual(seen.sort(), Object.keys(expected).sort());
    for (const [address, kind] of Object.entries(expected))
      assert.equal(ipaddr.IPv6.parse(address).range(), kind, address);
    assert.equal(ipaddr.IPv6.parse("2001:4860::8888").range(), "unicast");
  });

  it("lists as never public the IPv4 blocks ipaddr.js classifies as special (not private)", () => {
    const kinds = NON_PUBLIC_IPV4.map((r) => {
      const first = ipaddr.IPv4.parse(formatIpv4(r.lo)).range();
      const last = ipaddr.IPv4.parse(formatIpv4(r.hi)).range();
      // broadcast is the last address of the reserved block
      return [first, last === "broadcast" ? "reserved" : last];
    });
    for (const [first, last] of kinds) assert.equal(first, last);
    assert.deepEqual(kinds.map(([k]) => k).sort(), [
      "carrierGradeNat",
      "linkLocal",
      "loopback",
      "multicast",
      "reserved",
      "unspecified",
    ]);
  });

  it("names RFC 1918 as ipaddr.js's private space", () => {
    for (const cidr of RFC1918_CIDRS) {
      const range = parseCidr(cidr)!;
      for (const address of [range.lo, range.hi])
        assert.equal(ipaddr.IPv4.parse(formatIpv4(address)).range(), "private", cidr);
    }
    assert.equal(ipaddr.IPv4.parse("172.32.0.0").range(), "unicast");
  });
});
