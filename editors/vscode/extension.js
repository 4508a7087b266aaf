// The VS Code side of scim-sql-mapper: starts `mapper lsp` (stdio) for *.map files. All the
// language knowledge is in the server; this file only launches it.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

// The workspace's first folder: `${workspaceFolder}` in a setting (VS Code leaves extension
// settings unexpanded), and the server's working directory (relative SQLite URLs).
function folder() {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function expand(value) {
  return value.split("${workspaceFolder}").join(folder() ?? ".");
}

function activate(context) {
  const config = vscode.workspace.getConfiguration("mapper");
  const command = expand(config.get("server.command", "mapper"));
  const args = ["lsp", ...config.get("server.args", []).map(expand)];
  const server = { command, args, transport: TransportKind.stdio, options: { cwd: folder() } };
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
