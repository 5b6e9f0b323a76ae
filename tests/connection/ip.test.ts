// src/connection/ip.ts is node:net's isIP without loading node:net (start-up): it must agree with the runtime's own
// on every input, including zones, embedded IPv4, compression and near misses.
import { expect, test } from "bun:test";
import { isIP as runtimeIsIP } from "node:net";
import { isIP } from "../../src/connection/ip.ts";

const SAMPLES = ["", "1", "0", "01", "255", "256", "1.2.3.4", "1.2.3.04", "1.2.3.4.", " 1.2.3.4", "0.0.0.0", "255.255.255.255", "::", ":", ":::", "::1", "1::", "fe80::1", "fe80::1%eth0", "%eth0", "::1%", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "::ffff:1.2.3", "::ffff:256.1.1.1", "1.2.3.4::", "g::1", "12345::", "1::2::3", "[::1]", "::1]", "localhost", "FFFF::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "a:b", "1.2.3.4%x", "fe80::1%25", "::1%a%b", "::%1"];

test("isIP agrees with node:net's on chosen and generated inputs", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const inputs = [...SAMPLES];
  const alphabet = "0123456789abcdefABCDEF:.%xz]/ ";
  for (let i = 0; i < 50_000; i++) inputs.push(Array.from({ length: Math.floor(random() * 20) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""));
  for (let i = 0; i < 50_000; i++) {
    let text = Array.from({ length: Math.floor(random() * 9) }, () => (random() < 0.3 ? "" : Math.floor(random() * 70_000).toString(16))).join(":");
    if (random() < 0.2) text += `:${[0, 0, 0, 0].map(() => Math.floor(random() * 300)).join(".")}`;
    if (random() < 0.1) text += `%eth${Math.floor(random() * 3)}`;
    inputs.push(text);
  }
  const differ = inputs.filter((text) => isIP(text) !== runtimeIsIP(text));
  expect(differ).toEqual([]);
  // The generated inputs reach every answer, so agreement is not agreement on "0".
  expect(new Set(inputs.map(isIP))).toEqual(new Set([0, 4, 6]));
});
