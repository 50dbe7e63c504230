// Deterministic names and addresses for seeded objects, so a scenario builds the same cluster every run.

const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Suffix in the alphabet kube uses for generated names (no vowels, no look-alikes). */
export function suffix(seed: string, len = 5): string {
  let h = fnv1a(seed);
  let out = "";
  for (let i = 0; i < len; i++) {
    out += ALPHABET[h % ALPHABET.length];
    h = Math.floor(h / ALPHABET.length) || fnv1a(seed + out);
  }
  return out;
}

/** pod-template-hash look-alike (kube uses 10 chars from the same alphabet). */
export function templateHash(seed: string): string {
  return suffix(`tmpl/${seed}`, 10);
}

export function hex(seed: string, len = 16): string {
  let out = "";
  let i = 0;
  while (out.length < len) out += fnv1a(`${seed}/${i++}`).toString(16).padStart(8, "0");
  return out.slice(0, len);
}

/** K3s defaults: pods in 10.42.<node>.0/24, services in 10.43.0.0/16. Data only, never dialled. */
export function podIP(nodeIndex: number, n: number): string {
  return `10.42.${nodeIndex}.${(n % 250) + 2}`;
}

export function serviceIP(n: number): string {
  return `10.43.${Math.floor(n / 250)}.${(n % 250) + 10}`;
}

export function nodeIP(nodeIndex: number): string {
  return `192.168.50.${nodeIndex + 10}`;
}
