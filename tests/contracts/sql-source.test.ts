import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { GitHubApi } from '../../services/adapters/github/github-api.js';
import { parseGitHubFolderSpec } from '../../services/adapters/github/github-folder.js';
import { GitHubSqlSource } from '../../services/adapters/github/github-sql-source.js';
import { FixedSqlSource } from '../../services/adapters/local/fixed-sql-source.js';
import { FolderSqlSource } from '../../services/adapters/local/folder-sql-source.js';
import { type GitHubStub, startGitHubStub, TOKEN } from '../integration/github/github-stub.js';
import type { AdapterFixture } from './adapter-fixture.js';
import {
  type FolderFile,
  type SqlSourceUnderTest,
  sqlFolderContract,
  sqlSourceContract,
} from './sql-source.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

sqlSourceContract({
  name: 'FixedSqlSource (files held in memory: given the folder’s files, as they come)',
  fresh: async () => ({
    sourceOf: async (files) => new FixedSqlSource(files.map((f) => ({ name: f.path, text: f.text }))),
  }),
});

let folders: string;
const folderFixture: AdapterFixture<SqlSourceUnderTest> = {
  name: 'FolderSqlSource over a temporary folder',
  start: async () => {
    folders = mkdtempSync(path.join(tmpdir(), 'sql-source-contract-'));
  },
  stop: async () => rmSync(folders, { recursive: true, force: true }),
  fresh: async () => {
    const folder = mkdtempSync(path.join(folders, 'queries-'));
    const write = async (files: readonly FolderFile[]) => {
      rmSync(folder, { recursive: true, force: true });
      for (const file of files) {
        mkdirSync(path.dirname(path.join(folder, file.path)), { recursive: true });
        writeFileSync(path.join(folder, file.path), file.text);
      }
    };
    return {
      sourceOf: async (files) => {
        await write(files);
        return new FolderSqlSource(folder);
      },
      change: write,
    };
  },
};
sqlSourceContract(folderFixture);
sqlFolderContract(folderFixture);

let stub: GitHubStub;
const gitHubFixture: AdapterFixture<SqlSourceUnderTest> = {
  name: 'GitHubSqlSource over a loopback stub of the commits and contents APIs',
  start: async () => {
    stub = await startGitHubStub('acme', 'fleet-sql', 'main');
  },
  stop: () => stub.close(),
  fresh: async () => {
    const inFolder = (files: readonly FolderFile[]) =>
      files.map((f) => ({ path: `sql/nightly/${f.path}`, text: f.text }));
    return {
      sourceOf: async (files) => {
        stub.files = inFolder(files);
        return new GitHubSqlSource({
          folder: parseGitHubFolderSpec('acme/fleet-sql/sql/nightly@main'),
          api: new GitHubApi({ baseUrl: stub.url, token: async () => TOKEN }),
        });
      },
      change: async (files) => {
        stub.files = inFolder(files);
      },
    };
  },
};
sqlSourceContract(gitHubFixture);
sqlFolderContract(gitHubFixture);
