// X.501 distinguished names: kept as DER for exact comparison, rendered for people.
import { type DerNode, readOid, readString, TAG } from './der.js';

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export interface NameAttribute {
  oid: string;
  value: string;
}

export class DistinguishedName {
  constructor(
    /** The Name's DER (a SEQUENCE of RDN SETs); compare names with this. */
    readonly der: Buffer,
    readonly attributes: readonly NameAttribute[],
  ) {}

  get(oidOrShort: string): string | undefined {
    return this.attributes.find((a) => a.oid === oidOrShort || SHORT_NAMES[a.oid] === oidOrShort)?.value;
  }

  get commonName(): string | undefined {
    return this.get('2.5.4.3');
  }

  get organization(): string | undefined {
    return this.get('2.5.4.10');
  }

  get isEmpty(): boolean {
    return this.attributes.length === 0;
  }

  equals(other: DistinguishedName): boolean {
    return this.der.equals(other.der);
  }

  toString(): string {
    return this.attributes.map((a) => `${SHORT_NAMES[a.oid] ?? a.oid}=${a.value}`).join(', ');
  }
}

export function parseName(node: DerNode, field: string): DistinguishedName {
  node.expect(TAG.SEQUENCE, field);
  const attributes: NameAttribute[] = [];
  for (const rdn of node.children(field)) {
    rdn.expect(TAG.SET, field);
    for (const atv of rdn.children(field)) {
      const [type, value] = atv.expect(TAG.SEQUENCE, field).children(field);
      if (!type || !value) continue;
      const oid = readOid(type, field);
      let text: string;
      try {
        text = readString(value, field);
      } catch {
        text = '#' + value.bytes.toString('hex');
      }
      attributes.push({ oid, value: text });
    }
  }
  return new DistinguishedName(node.bytes, attributes);
}
