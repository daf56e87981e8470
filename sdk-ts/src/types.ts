// SCALE types of Cella's chain and of Phala's Phat-contract wire formats,
// registered in a @polkadot/types registry. Field order and widths follow
// internal/tx, internal/state/phat and internal/phatwire of the Go code, and
// @phala/sdk's type definitions (checked byte for byte against its vectors).
import { TypeRegistry } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';

/** Type definitions of everything this SDK encodes or decodes. */
export const cellaTypes = {
  // --- the chain (internal/tx, internal/state/*)
  CellaCall: { module: 'u8', method: 'u8', args: 'Bytes' },
  CellaTxBody: {
    version: 'u8', scheme: 'u8', signer: '[u8; 32]', genesis: '[u8; 32]',
    nonce: 'u64', validUntil: 'u64', feeLimit: 'u128', call: 'CellaCall',
  },
  CellaTx: { body: 'CellaTxBody', wrapping: 'u8', signature: '[u8; 64]' },
  CellaTransferArgs: { dest: '[u8; 32]', amount: 'Compact<u128>' },
  CellaUploadArgs: { cluster: '[u8; 32]', kind: 'u8', code: 'Bytes' },
  CellaInstantiateArgs: {
    cluster: '[u8; 32]', codeHash: '[u8; 32]', data: 'Bytes', salt: 'Bytes',
    transfer: 'u128', gasLimit: 'u64', storageDepositLimit: 'Option<u128>',
  },
  CellaPushArgs: { contract: '[u8; 32]', payload: 'Bytes', gasLimit: 'u64', deposit: 'u128' },
  // governance (internal/state/gov)
  CellaProposeArgs: { call: 'CellaCall', referendum: 'bool' },
  CellaVoteArgs: { id: 'u64', aye: 'bool', stake: 'Compact<u128>' },
  CellaSetCouncilArgs: { members: 'Vec<[u8; 32]>', threshold: 'u32' },
  CellaUpgradeArgs: { height: 'u64', appVersion: 'u64' },
  CellaHashArg: '[u8; 32]',

  // --- Phala's secure channel and commands (phatwire, @phala/sdk coders)
  PhatEncryptedData: { iv: '[u8; 12]', pubkey: '[u8; 32]', data: 'Bytes' },
  PhatInkMessage: {
    nonce: 'Bytes', message: 'Bytes', transfer: 'u128', gasLimit: 'u64', storageDepositLimit: 'Option<u128>',
  },
  PhatInkCommand: { _enum: { InkMessage: 'PhatInkMessage' } },
  PhatCommandPayload: { _enum: { Plain: 'PhatInkCommand', Encrypted: 'PhatEncryptedData' } },
  PhatCertificateBody: { pubkey: 'Bytes', ttl: 'u32', configBits: 'u32' },

  // --- queries
  PhatInkQueryHead: { id: '[u8; 32]', nonce: '[u8; 32]' },
  PhatInkQueryMessage: { payload: 'Bytes', deposit: 'u128', transfer: 'u128', estimating: 'bool' },
  PhatInkQueryInstantiate: {
    codeHash: '[u8; 32]', salt: 'Bytes', instantiateData: 'Bytes', deposit: 'u128', transfer: 'u128',
  },
  PhatInkQueryData: {
    _enum: { InkMessage: 'PhatInkQueryMessage', SidevmMessage: 'Bytes', InkInstantiate: 'PhatInkQueryInstantiate' },
  },
  PhatInkQuery: { head: 'PhatInkQueryHead', data: 'PhatInkQueryData' },
  PhatInkQueryError: {
    _enum: {
      BadOrigin: 'Null', RuntimeError: 'Text', SidevmNotFound: 'Null', NoResponse: 'Null',
      ServiceUnavailable: 'Null', Timeout: 'Null',
    },
  },
  PhatInkQueryOk: { _enum: { InkMessageReturn: 'Bytes' } },
  PhatInkResponse: { nonce: '[u8; 32]', result: 'Result<PhatInkQueryOk, PhatInkQueryError>' },

  // --- pallet-contracts results as @phala/sdk's registry has them
  PhatWeight: { refTime: 'Compact<u64>', proofSize: 'Compact<u64>' },
  PhatStorageDeposit: { _enum: { Refund: 'u128', Charge: 'u128' } },
  PhatExecReturnValue: { flags: 'u32', data: 'Bytes' },
  PhatModuleError: { index: 'u8', error: '[u8; 4]' },
  PhatTokenError: {
    _enum: ['FundsUnavailable', 'OnlyProvider', 'BelowMinimum', 'CannotCreate', 'UnknownAsset', 'Frozen',
      'Unsupported', 'CannotCreateHold', 'NotExpendable'],
  },
  PhatArithmeticError: { _enum: ['Underflow', 'Overflow', 'DivisionByZero'] },
  PhatTransactionalError: { _enum: ['LimitReached', 'NoLayer'] },
  PhatDispatchError: {
    _enum: {
      Other: 'Null', CannotLookup: 'Null', BadOrigin: 'Null', Module: 'PhatModuleError',
      ConsumerRemaining: 'Null', NoProviders: 'Null', TooManyConsumers: 'Null', Token: 'PhatTokenError',
      Arithmetic: 'PhatArithmeticError', Transactional: 'PhatTransactionalError', Exhausted: 'Null',
      Corruption: 'Null', Unavailable: 'Null',
    },
  },
  PhatContractExecResult: {
    gasConsumed: 'PhatWeight', gasRequired: 'PhatWeight', storageDeposit: 'PhatStorageDeposit',
    debugMessage: 'Text', result: 'Result<PhatExecReturnValue, PhatDispatchError>',
  },
  PhatInstantiateReturnValue: { result: 'PhatExecReturnValue', accountId: '[u8; 32]' },
  PhatContractInstantiateResult: {
    gasConsumed: 'PhatWeight', gasRequired: 'PhatWeight', storageDeposit: 'PhatStorageDeposit',
    debugMessage: 'Text', result: 'Result<PhatInstantiateReturnValue, PhatDispatchError>',
  },

  // --- Cella's worker answers (phatwire outcome.go, logs.go)
  CellaOutcomeEvent: { contract: '[u8; 32]', topics: 'Vec<[u8; 32]>', data: 'Bytes' },
  CellaCommandOutcome: {
    height: 'u64', contract: '[u8; 32]', refused: 'Text', flags: 'u32', output: 'Bytes',
    error: 'Text', gasUsed: 'u64', events: 'Vec<CellaOutcomeEvent>',
  },
  CellaLogRequest: { after: 'u64', max: 'u32' },
  CellaLogEntry: { seq: 'u64', block: 'u32', timeMs: 'u64', level: 'u8', inQuery: 'bool', message: 'Text' },
  CellaLogPage: { entries: 'Vec<CellaLogEntry>', next: 'u64' },
};

/** The registry holding cellaTypes. */
export const registry = new TypeRegistry();
registry.register(cellaTypes);

/** Names of the types in cellaTypes. */
export type CellaTypeName = keyof typeof cellaTypes;

/** SCALE-encodes value as type. Byte-vector fields take hex or Uint8Array of raw bytes (see bytesIn). */
export function encode(type: CellaTypeName, value: unknown): Uint8Array {
  return registry.createType(type, value).toU8a();
}

/**
 * Decodes bytes as type strictly: at most max bytes, and the whole input
 * must be consumed (the Go decoders reject trailing bytes too).
 */
export function decodeStrict<T extends Codec = Codec>(type: CellaTypeName, bytes: Uint8Array, max: number): T {
  if (bytes.length > max) {
    throw new Error(`${type}: ${bytes.length} bytes, limit ${max}`);
  }
  const v = registry.createType(type, bytes) as unknown as T;
  if (v.encodedLength !== bytes.length) {
    throw new Error(`${type}: ${bytes.length - v.encodedLength} trailing bytes`);
  }
  return v;
}
