#!/usr/bin/env node
'use strict';
// protoc-gen-frpcjs: our protoc plugin for Node. For each .proto it writes <stem>_frpc.js (the
// messages and enums as protobufjs reflection types, and a client class per service with one
// method per rpc) and <stem>_frpc.d.ts (their TypeScript types).
//
//   protoc -I. --plugin=protoc-gen-frpcjs=clients/node/bin/protoc-gen-frpcjs.js \
//       --frpcjs_out=OUT proto/echo.proto                      # writes OUT/proto/echo_frpc.{js,d.ts}
//
// Parameters (--frpcjs_opt=a=b,c=d): runtime=<module> is what the generated code requires for the
// framerpc runtime (default "framerpc"); dts=false skips the .d.ts.
//
// The messages of a file live in its own module; a module requires the modules of the files it
// imports (which must be generated too, with the same layout), except google/protobuf/*, whose
// types it carries itself.
const path = require('path');
const protobuf = require('protobufjs');
const descriptor = require('protobufjs/ext/descriptor');

const pluginRoot = new protobuf.Root()
  .addJSON(require('protobufjs/google/protobuf/descriptor.json').nested)
  .addJSON(require('protobufjs/google/protobuf/compiler/plugin.json').nested);
const CodeGeneratorRequest = pluginRoot.lookupType('google.protobuf.compiler.CodeGeneratorRequest');
const CodeGeneratorResponse = pluginRoot.lookupType('google.protobuf.compiler.CodeGeneratorResponse');
const FEATURE_PROTO3_OPTIONAL = 1;

class GenerationError extends Error {}

// Identifiers that cannot be used as they are for a class method or an exported binding.
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export ' +
  'extends false finally for function if import in instanceof new null return super switch this throw true ' +
  'try typeof var void while with yield let static implements interface package private protected public ' +
  'await arguments eval constructor').split(' '));

function safeName(name) {
  return RESERVED.has(name) ? `${name}_` : name;
}

function parseParameters(text) {
  const params = { runtime: 'framerpc', dts: true };
  for (const item of (text || '').split(',').filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (key === 'runtime') params.runtime = value;
    else if (key === 'dts') params.dts = value !== 'false';
    else throw new GenerationError(`unknown parameter '${key}' (known: runtime, dts)`);
  }
  return params;
}

function stemOf(fileName) {
  return fileName.replace(/\.proto$/, '');
}

function moduleSpecifier(fromFile, toFile) {
  let relative = path.posix.relative(path.posix.dirname(fromFile), `${stemOf(toFile)}_frpc.js`);
  if (!relative.startsWith('.')) relative = `./${relative}`;
  return relative;
}

function isWellKnown(fileName) {
  return fileName.startsWith('google/protobuf/');
}

// The protobufjs JSON of the types `file` declares (not those of its imports), nested in its
// package's namespaces. protobufjs converts the descriptors (of the file and everything it imports,
// so that references resolve); references to other files' types stay absolute (".pkg.Type").
function fileJson(file, filesByName) {
  const closure = [];
  const seen = new Set();
  (function visit(f) {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const dep of f.dependency || []) visit(filesByName.get(dep));
    closure.push(f);
  })(file);
  const set = descriptor.FileDescriptorSet.encode(descriptor.FileDescriptorSet.fromObject({ file: closure })).finish();
  const root = protobuf.Root.fromDescriptor(set);
  const own = {};
  const prefix = file.package ? `${file.package}.` : '';
  for (const top of [...(file.messageType || []), ...(file.enumType || []), ...(file.service || [])]) {
    own[top.name] = root.lookup(prefix + top.name).toJSON();
  }
  let json = { nested: own };
  for (const part of (file.package || '').split('.').filter(Boolean).reverse()) json = { nested: { [part]: json } };
  return json;
}

// Every type a file declares, with its full name, its export name (Outer_Inner for nested ones)
// and its reflection kind.
function collectTypes(file) {
  const out = [];
  const prefix = file.package ? `${file.package}.` : '';
  function visitMessage(message, scope, exportScope) {
    const fullName = scope + message.name;
    const exportName = exportScope + message.name;
    if (message.options && message.options.mapEntry) return;
    out.push({ kind: 'message', fullName, exportName, descriptor: message });
    for (const nested of message.nestedType || []) visitMessage(nested, `${fullName}.`, `${exportName}_`);
    for (const nested of message.enumType || []) {
      out.push({ kind: 'enum', fullName: `${fullName}.${nested.name}`, exportName: `${exportName}_${nested.name}`, descriptor: nested });
    }
  }
  for (const message of file.messageType || []) visitMessage(message, prefix, '');
  for (const e of file.enumType || []) out.push({ kind: 'enum', fullName: prefix + e.name, exportName: e.name, descriptor: e });
  return out;
}

const METHOD_KINDS = {
  'false,false': 'UNARY',
  'false,true': 'SERVER_STREAMING',
  'true,false': 'CLIENT_STREAMING',
  'true,true': 'BIDI_STREAMING',
};

function methodKind(method) {
  return METHOD_KINDS[`${Boolean(method.clientStreaming)},${Boolean(method.serverStreaming)}`];
}

function stripDot(name) {
  return name.replace(/^\./, '');
}

// ---------------------------------------------------------------------------------------------
// TypeScript types.

const SCALAR_TS = {
  TYPE_DOUBLE: 'number', TYPE_FLOAT: 'number', TYPE_INT32: 'number', TYPE_UINT32: 'number',
  TYPE_SINT32: 'number', TYPE_FIXED32: 'number', TYPE_SFIXED32: 'number', TYPE_BOOL: 'boolean',
  TYPE_STRING: 'string', TYPE_BYTES: 'Uint8Array',
  TYPE_INT64: 'framerpc.Long', TYPE_UINT64: 'framerpc.Long', TYPE_SINT64: 'framerpc.Long',
  TYPE_FIXED64: 'framerpc.Long', TYPE_SFIXED64: 'framerpc.Long',
};
const INPUT_64 = 'number | string | framerpc.Long';

function camelCase(name) {  // as protobufjs names fields
  return name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

class TypeNames {
  // index: full name -> {exportName, file}
  constructor(index, currentFile, importAliases) {
    this.index = index;
    this.currentFile = currentFile;
    this.importAliases = importAliases;  // file name -> alias in the .d.ts
  }

  ref(typeName, input) {
    const entry = this.index.get(stripDot(typeName));
    if (!entry) throw new GenerationError(`unknown type ${typeName}`);
    const name = entry.kind === 'enum' ? entry.exportName : (input ? `I${entry.exportName}` : entry.exportName);
    if (entry.file === this.currentFile || isWellKnown(entry.file) && this.importAliases.get(entry.file) === undefined) {
      return name;
    }
    return `${this.importAliases.get(entry.file)}.${name}`;
  }
}

function enumValueType(names, field, input) {
  const base = names.ref(field.typeName, false);
  return input ? `${base} | keyof typeof ${base}` : base;
}

function fieldTsType(names, field, messageIndex, input) {
  let type;
  if (field.type === 'TYPE_MESSAGE') {
    const entry = messageIndex.get(stripDot(field.typeName));
    if (entry && entry.descriptor.options && entry.descriptor.options.mapEntry) {
      const [key, value] = entry.descriptor.field;
      const valueType = fieldTsType(names, { ...value, label: 'LABEL_OPTIONAL' }, messageIndex, input);
      return `{ [key: string]: ${valueType.replace(/ \| null$/, '')} }`;
    }
    type = names.ref(field.typeName, input);
  } else if (field.type === 'TYPE_ENUM') {
    type = enumValueType(names, field, input);
  } else if (field.type === 'TYPE_GROUP') {
    throw new GenerationError(`groups are not supported (field ${field.name})`);
  } else {
    type = SCALAR_TS[field.type];
    if (input && type === 'framerpc.Long') type = INPUT_64;
    else if (type === 'framerpc.Long') type = 'framerpc.Long | number';
  }
  if (field.label === 'LABEL_REPEATED') return `Array<${type}>`;
  return type;
}

function messageDts(names, item, messageIndex) {
  const fields = item.descriptor.field || [];
  const lines = [];
  lines.push(`/** ${item.fullName}: the fields accepted when creating or sending one (all optional). */`);
  lines.push(`export interface I${item.exportName} {`);
  for (const field of fields) {
    lines.push(`  ${camelCase(field.name)}?: ${fieldTsType(names, field, messageIndex, true)} | null;`);
  }
  lines.push('}');
  lines.push(`/** ${item.fullName} as decoded (unset fields read as their defaults). */`);
  lines.push(`export interface ${item.exportName} extends framerpc.Message {`);
  for (const field of fields) {
    // Singular message fields, oneof members and proto3 `optional` fields may be absent.
    const optional = field.oneofIndex !== undefined || (field.type === 'TYPE_MESSAGE'
      && field.label !== 'LABEL_REPEATED' && !(messageIndex.get(stripDot(field.typeName))?.descriptor.options?.mapEntry));
    lines.push(`  ${camelCase(field.name)}${optional ? '?' : ''}: ${fieldTsType(names, field, messageIndex, false)}${optional ? ' | null' : ''};`);
  }
  lines.push('}');
  lines.push(`export const ${item.exportName}: framerpc.MessageType<${item.exportName}, I${item.exportName}>;`);
  return lines.join('\n');
}

function enumDts(item) {
  const values = item.descriptor.value || [];
  return [
    `/** enum ${item.fullName} */`,
    `export const ${item.exportName}: {`,
    ...values.map((v) => `  readonly ${v.name}: ${v.number};`),
    '};',
    `export type ${item.exportName} = ${values.length ? values.map((v) => v.number).filter((n, i, a) => a.indexOf(n) === i).join(' | ') : 'number'};`,
  ].join('\n');
}

function serviceDts(names, service, fullName) {
  const lines = [`/** Client of ${fullName}. */`, `export class ${service.name}Client extends framerpc.Client {`];
  for (const method of service.method || []) {
    const req = names.ref(method.inputType, true);
    const res = names.ref(method.outputType, false);
    const name = safeName(method.name);
    switch (methodKind(method)) {
      case 'UNARY':
        lines.push(`  ${name}(request: ${req}, options?: framerpc.CallOptions): framerpc.UnaryCall<${res}>;`);
        break;
      case 'SERVER_STREAMING':
        lines.push(`  ${name}(request: ${req}, options?: framerpc.ServerStreamOptions): framerpc.ServerStream<${res}>;`);
        break;
      case 'CLIENT_STREAMING':
        lines.push(`  ${name}(options?: framerpc.StreamOptions): framerpc.ClientStream<${req}, ${res}>;`);
        lines.push(`  ${name}(input: framerpc.RequestInput<${req}>, options?: framerpc.StreamOptions): framerpc.ClientStream<${req}, ${res}>;`);
        break;
      default:
        lines.push(`  ${name}(options?: framerpc.StreamOptions): framerpc.BidiStream<${req}, ${res}>;`);
        lines.push(`  ${name}(input: framerpc.RequestInput<${req}>, options?: framerpc.StreamOptions): framerpc.BidiStream<${req}, ${res}>;`);
    }
  }
  lines.push(`  static readonly service: ${JSON.stringify(fullName)};`);
  lines.push('  static readonly methods: { readonly [name: string]: framerpc.MethodDescriptor };');
  lines.push('}');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// JavaScript.

function generateFile(file, filesByName, index, params) {
  const name = file.name;
  const stem = stemOf(name);
  const types = collectTypes(file);
  const deps = (file.dependency || []).filter((d) => filesByName.has(d));
  const ownDeps = deps.filter((d) => !isWellKnown(d));
  // Well-known types this file uses travel with it (there is no generated module for them).
  const wellKnown = [];
  const seen = new Set();
  (function addWellKnown(f) {
    for (const d of f.dependency || []) {
      if (isWellKnown(d) && !seen.has(d) && filesByName.has(d)) {
        seen.add(d);
        addWellKnown(filesByName.get(d));
        wellKnown.push(d);
      }
    }
  })(file);

  const js = [];
  js.push(`// Generated by protoc-gen-frpcjs from ${name}. DO NOT EDIT.`);
  js.push("'use strict';");
  js.push(`const framerpc = require(${JSON.stringify(params.runtime)});`);
  for (const dep of ownDeps) js.push(`require(${JSON.stringify(moduleSpecifier(name, dep))});`);
  for (const dep of wellKnown) {
    js.push(`framerpc.registry.define(${JSON.stringify(dep)}, ${JSON.stringify(fileJson(filesByName.get(dep), filesByName))});`);
  }
  js.push(`const $root = framerpc.registry.define(${JSON.stringify(name)}, ${JSON.stringify(fileJson(file, filesByName))});`);
  js.push('');
  const exported = new Set();
  function exportOnce(exportName) {
    if (exported.has(exportName)) throw new GenerationError(`${name}: two declarations export the name ${exportName}`);
    exported.add(exportName);
  }
  for (const item of types) {
    exportOnce(item.exportName);
    if (item.kind === 'message') {
      js.push(`exports.${item.exportName} = $root.lookupType(${JSON.stringify(item.fullName)});`);
    } else {
      js.push(`exports.${item.exportName} = Object.freeze({ ...$root.lookupEnum(${JSON.stringify(item.fullName)}).values });`);
    }
  }
  const prefix = file.package ? `${file.package}.` : '';
  for (const service of file.service || []) {
    const fullName = prefix + service.name;
    const className = `${service.name}Client`;
    exportOnce(className);
    js.push('');
    js.push(`// ${fullName}`);
    js.push(`const ${service.name}$methods = Object.freeze({`);
    const used = new Set();
    for (const method of service.method || []) {
      const methodName = safeName(method.name);
      if (used.has(methodName)) throw new GenerationError(`${fullName}: two methods named ${methodName}`);
      used.add(methodName);
      js.push(`  ${JSON.stringify(methodName)}: framerpc.method({`);
      js.push(`    name: ${JSON.stringify(method.name)},`);
      js.push(`    path: ${JSON.stringify(`/${fullName}/${method.name}`)},`);
      js.push(`    kind: framerpc.MethodKind.${methodKind(method)},`);
      js.push(`    requestType: $root.lookupType(${JSON.stringify(stripDot(method.inputType))}),`);
      js.push(`    responseType: $root.lookupType(${JSON.stringify(stripDot(method.outputType))}),`);
      js.push('  }),');
    }
    js.push('});');
    js.push('');
    js.push(`/** Client of ${fullName}: one method per rpc. */`);
    js.push(`class ${className} extends framerpc.Client {`);
    for (const method of service.method || []) {
      const methodName = safeName(method.name);
      const ref = `${service.name}$methods[${JSON.stringify(methodName)}]`;
      switch (methodKind(method)) {
        case 'UNARY':
          js.push(`  ${methodName}(request, options) {`);
          js.push(`    return this.$channel.unaryCall(${ref}, request, options);`);
          break;
        case 'SERVER_STREAMING':
          js.push(`  ${methodName}(request, options) {`);
          js.push(`    return this.$channel.serverStreamingCall(${ref}, request, options);`);
          break;
        case 'CLIENT_STREAMING':
          js.push(`  ${methodName}(input, options) {`);
          js.push(`    return this.$channel.clientStreamingCall(${ref}, input, options);`);
          break;
        default:
          js.push(`  ${methodName}(input, options) {`);
          js.push(`    return this.$channel.bidiStreamingCall(${ref}, input, options);`);
      }
      js.push('  }');
      js.push('');
    }
    if (js[js.length - 1] === '') js.pop();
    js.push('}');
    js.push(`${className}.service = ${JSON.stringify(fullName)};`);
    js.push(`${className}.methods = ${service.name}$methods;`);
    js.push(`exports.${className} = ${className};`);
  }
  const out = [{ name: `${stem}_frpc.js`, content: `${js.join('\n')}\n` }];

  if (params.dts) {
    const aliases = new Map();
    const dts = [`// Generated by protoc-gen-frpcjs from ${name}. DO NOT EDIT.`];
    dts.push(`import * as framerpc from ${JSON.stringify(params.runtime)};`);
    ownDeps.forEach((dep, i) => {
      const alias = `$dep${i}_${path.posix.basename(stemOf(dep)).replace(/[^A-Za-z0-9_]/g, '_')}`;
      aliases.set(dep, alias);
      dts.push(`import * as ${alias} from ${JSON.stringify(moduleSpecifier(name, dep).replace(/\.js$/, ''))};`);
    });
    dts.push('');
    const names = new TypeNames(index, name, aliases);
    const messageIndex = new Map([...index.entries()].filter(([, v]) => v.kind === 'message'));
    // Well-known types used here are declared here too (they travel with the module).
    const declared = [...wellKnown.flatMap((d) => collectTypes(filesByName.get(d))), ...types];
    const seenExports = new Set();
    for (const item of declared) {
      if (seenExports.has(item.exportName)) continue;
      seenExports.add(item.exportName);
      const local = types.includes(item);
      const text = item.kind === 'message' ? messageDts(names, item, messageIndex) : enumDts(item);
      dts.push(local ? text : text.replace(/^export /gm, 'declare '));
      dts.push('');
    }
    for (const service of file.service || []) {
      dts.push(serviceDts(names, service, prefix + service.name));
      dts.push('');
    }
    out.push({ name: `${stem}_frpc.d.ts`, content: `${dts.join('\n').trimEnd()}\n` });
  }
  return out;
}

function generate(request) {
  const params = parseParameters(request.parameter);
  const filesByName = new Map();
  const index = new Map();  // full type name -> {exportName, kind, file, descriptor}
  for (const file of request.protoFile) {
    filesByName.set(file.name, file);
    for (const item of collectTypes(file)) index.set(item.fullName, { ...item, file: file.name });
    // map entries, for the .d.ts
    (function visit(messages, scope) {
      for (const m of messages || []) {
        const full = scope + m.name;
        if (m.options && m.options.mapEntry) index.set(full, { kind: 'message', fullName: full, exportName: m.name, descriptor: m, file: file.name });
        visit(m.nestedType, `${full}.`);
      }
    })(file.messageType, file.package ? `${file.package}.` : '');
  }
  const files = [];
  for (const name of request.fileToGenerate) {
    const file = filesByName.get(name);
    if (!file) throw new GenerationError(`protoc sent no descriptor for ${name}`);
    files.push(...generateFile(file, filesByName, index, params));
  }
  return files;
}

function main() {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const request = CodeGeneratorRequest.toObject(CodeGeneratorRequest.decode(Buffer.concat(chunks)), {
      enums: String, defaults: false, arrays: true,
    });
    let response;
    try {
      response = { file: generate(request), supportedFeatures: FEATURE_PROTO3_OPTIONAL };
    } catch (error) {
      if (!(error instanceof GenerationError)) throw error;
      response = { error: error.message };
    }
    process.stdout.write(CodeGeneratorResponse.encode(CodeGeneratorResponse.fromObject(response)).finish());
  });
}

if (require.main === module) main();

module.exports = { generate, parseParameters };
