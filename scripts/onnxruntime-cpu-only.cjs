// Stratum's `preinstall`: lets a plain `npm install stratum` succeed offline.
//
// onnxruntime-node's postinstall downloads its CUDA execution provider from NuGet on linux/x64
// unless told to skip (ONNXRUNTIME_NODE_INSTALL=skip, or `onnxruntime-node-install=skip` in the
// installing project's .npmrc: a dependency's .npmrc never travels with it). Offline, that
// download fails the whole install. Stratum runs onnxruntime on the CPU only, so it never needs
// those files. That script skips the download when the files it would fetch already exist, and
// npm runs every package's preinstall before any package's postinstall, so this marks them
// present with empty placeholders, which the CPU provider never opens.
//
// An explicit choice wins: with ONNXRUNTIME_NODE_INSTALL (or the npm config) set, e.g. to
// `cuda12` for a GPU machine, this does nothing and onnxruntime-node installs what it was told.
'use strict';

const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { arch, platform } = require('node:os');
const { dirname, join } = require('node:path');

const explicit =
  process.env.ONNXRUNTIME_NODE_INSTALL ||
  process.env.npm_config_onnxruntime_node_install ||
  process.env.ONNXRUNTIME_NODE_INSTALL_CUDA ||
  process.env.npm_config_onnxruntime_node_install_cuda;

function main() {
  if (explicit) return;
  let metadataPath;
  try {
    metadataPath = require.resolve('onnxruntime-node/script/install-metadata.js', { paths: [__dirname] });
  } catch {
    return; // not installed beside us (yet): nothing to do
  }
  const metadata = require(metadataPath);
  const target = `${platform()}/${arch()}`;
  const folder = join(dirname(metadataPath), '..', 'bin', 'napi-v6', target);
  for (const name of metadata.requirements?.[target] ?? []) {
    for (const file of Object.keys(metadata.manifests?.[`${target}:${name}`] ?? {})) {
      const path = join(folder, file);
      if (existsSync(path)) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, '');
    }
  }
}

try {
  main();
} catch (error) {
  // Never fail an install over this: at worst onnxruntime-node tries its download as it would anyway.
  console.warn(`stratum: could not mark onnxruntime-node's CUDA files as present: ${error.message}`);
}
