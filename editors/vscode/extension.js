// The VS Code side of scim-sql-mapper: starts `mapper lsp` (stdio) for *.map files. All the
// language knowledge is in the server; this file only launches it.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("mapper");
  const command = config.get("server.command", "mapper");
  const args = ["lsp", ...config.get("server.args", [])];
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "mapper",
    "SCIM SQL Mapper",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "mapper" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
