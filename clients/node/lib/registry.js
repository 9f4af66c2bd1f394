'use strict';
// The message types of generated modules (protoc-gen-frpcjs): one protobufjs Root for all, so that
// a module's types can refer to those of the modules it imports, and a file's types are defined
// once however many modules carry them (google/protobuf/* travel with each module that uses them).
const protobuf = require('protobufjs/light');

const root = new protobuf.Root();
const files = new Set();

/** Adds the types of `fileName` (protobufjs JSON) unless they are there already; returns the root. */
function define(fileName, json) {
  if (!files.has(fileName)) {
    root.addJSON(json.nested || {});
    files.add(fileName);
  }
  return root;
}

module.exports = { root, define, files };
