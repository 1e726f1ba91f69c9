// Where the provisioning scripts live and where started servers keep their files.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const INFRA_SCRIPTS = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(INFRA_SCRIPTS, '..', '..');
