// A minimal VS Code client for `attribution lsp` (no build step: plain CommonJS).
// Install: `npm install` in this folder, then run it from VS Code ("Run Extension")
// or package it with `npx @vscode/vsce package`.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "c", "cpp",
  "java", "go", "rust", "shellscript", "ruby", "perl", "lua", "php", "csharp", "kotlin",
  "scala", "swift", "objective-c", "r", "julia", "haskell", "dart", "zig", "makefile", "cmake",
];

let client;

function serverOptions(cfg) {
  const args = ["lsp"];
  if (cfg.get("server")) {
    args.push("--server", cfg.get("server"));
  } else if (cfg.get("index")) {
    args.push("--index", cfg.get("index"));
  }
  const run = { command: cfg.get("command") || "attribution", args, transport: TransportKind.stdio };
  return { run, debug: run };
}

function clientOptions(cfg) {
  return {
    documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
    initializationOptions: {
      debounceMs: cfg.get("debounceMs"),
      severity: cfg.get("severity"),
    },
  };
}

async function start() {
  const cfg = vscode.workspace.getConfiguration("attribution");
  client = new LanguageClient("attribution", "attribution", serverOptions(cfg), clientOptions(cfg));
  await client.start();
}

async function restart() {
  if (client) {
    await client.stop();
  }
  await start();
}

async function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand("attribution.restart", restart));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("attribution")) {
        restart();
      }
    })
  );
  await start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
