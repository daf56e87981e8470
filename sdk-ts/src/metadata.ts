// ink! metadata through @polkadot/api-contract's Abi: constructor and
// message call data (selector ‖ SCALE arguments, without the length prefix
// Abi's toU8a adds), return values and events.
import { Abi } from '@polkadot/api-contract';
import type { AbiEvent, AbiMessage, DecodedEvent } from '@polkadot/api-contract/types';
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, hexToU8a, isHex, u8aToHex } from '@polkadot/util';

/** A contract's ink! metadata (the .json, or a .contract bundle). */
export class ContractMetadata {
  readonly abi: Abi;

  /** metadata: the parsed JSON or its text. */
  constructor(metadata: Record<string, unknown> | string) {
    this.abi = new Abi(metadata as any);
  }

  private find(list: AbiMessage[], name: string, what: string): AbiMessage {
    const m = list.find((x) => x.identifier === name || x.method === name || x.identifier.endsWith('::' + name));
    if (!m) {
      throw new Error(`cella: no ${what} ${name} in the metadata (${list.map((x) => x.identifier).join(', ')})`);
    }
    return m;
  }

  /** The contract's code when the metadata is a .contract bundle (source.wasm); undefined otherwise. */
  wasm(): Uint8Array | undefined {
    const w = (this.abi.json as { source?: { wasm?: unknown } }).source?.wasm;
    return typeof w === 'string' && isHex(w) && w.length > 2 ? hexToU8a(w) : undefined;
  }

  /** The constructor named name (label, camelCase method or Trait::label). */
  constructorSpec(name: string): AbiMessage {
    return this.find(this.abi.constructors, name, 'constructor');
  }

  /** The message named name. */
  messageSpec(name: string): AbiMessage {
    return this.find(this.abi.messages, name, 'message');
  }

  /** Call data of a constructor: selector ‖ SCALE(args). */
  encodeConstructor(name: string, args: unknown[] = []): Uint8Array {
    return compactStripLength(this.constructorSpec(name).toU8a(args))[1];
  }

  /** Call data of a message: selector ‖ SCALE(args). */
  encodeMessage(name: string, args: unknown[] = []): Uint8Array {
    return compactStripLength(this.messageSpec(name).toU8a(args))[1];
  }

  /**
   * Decodes a message's (or constructor's) SCALE return value: for ink! 4+
   * a Result<T, LangError>. Trailing bytes are an error.
   */
  decodeReturn(name: string, output: Uint8Array, constructor = false): Codec {
    const spec = constructor ? this.constructorSpec(name) : this.messageSpec(name);
    if (!spec.returnType) {
      throw new Error(`cella: ${name} returns nothing`);
    }
    const v = this.abi.registry.createTypeUnsafe<Codec>(spec.returnType.lookupName || spec.returnType.type, [output], { isPedantic: false });
    if (v.encodedLength !== output.length) {
      throw new Error(`cella: ${name}'s return value has ${output.length - v.encodedLength} trailing bytes`);
    }
    return v;
  }

  /**
   * Decodes an event a contract deposited: by its signature topic (the
   * first topic, metadata V5) or by its index byte (V4 and earlier).
   */
  decodeEvent(data: Uint8Array, topics: Uint8Array[] = []): DecodedEvent {
    let ev: AbiEvent | undefined;
    let body = data;
    if (Number(this.abi.metadata.version.toString()) >= 5) {
      const t = topics[0] ? u8aToHex(topics[0]) : undefined;
      ev = this.abi.events.find((e) => e.signatureTopic && e.signatureTopic === t);
    } else {
      ev = this.abi.events[data[0]];
      body = data.subarray(1);
    }
    if (!ev) {
      throw new Error('cella: the event matches none of the metadata\'s events');
    }
    return ev.fromU8a(body);
  }
}
