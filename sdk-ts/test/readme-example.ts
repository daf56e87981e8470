// The README's five lines, verbatim (but for the import path and the
// wrapper), run by the integration test.
import { Client, ContractMetadata, ready, signerFromUri } from '../src/index.js';

export async function readmeExample(nodeURL: string, flipperJson: Record<string, unknown>, flipperWasm: Uint8Array): Promise<unknown> {
  const log: unknown[] = [];
  const console = { log: (v: unknown) => log.push(v) };
  await ready(); const cella = new Client(nodeURL), alice = signerFromUri('//Alice'), md = new ContractMetadata(flipperJson);
  const { codeHash } = await cella.upload(alice, flipperWasm); const c = await cella.instantiate(alice, codeHash, md.encodeConstructor('new', [false])); await cella.waitContract(c.address);
  const flip = await cella.call(alice, c.address, md.encodeMessage('flip')); const worker = await cella.contractWorker(c.address); console.log((await cella.commandResult(alice, worker, flip)).success);
  console.log(md.decodeReturn('get', (await cella.query(alice, worker, c.address, md.encodeMessage('get'))).output).toJSON()); // { ok: true }
  return log;
}
