// Writes a QuickFIX data dictionary (FIX44.xml) derived from the installed QuickFIX C++ headers.
//
// Debian's libquickfix-dev ships the generated FIX 4.4 message classes but not the XML dictionary they were
// generated from (the source package drops it). The headers carry everything validation needs: each message's
// fields and repeating groups in order (FIELD_SET, FIX::Group), its required fields (the constructor's
// arguments), every field's tag (FixFieldNumbers.h), type (FixFields.h) and enumerated values (FixValues.h).
// Deriving the dictionary from the same engine, rather than from the FIX engine Rotor's gateway uses, keeps the
// check independent. Components come out flattened into each message, which validates the same.
//
// Usage: tsx fix44-dictionary.ts <quickfix include dir> <output FIX44.xml>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DictionaryGenerationError extends Error {}

interface FieldEntry { kind: 'field'; name: string; required: boolean }
interface GroupEntry { kind: 'group'; name: string; required: boolean; entries: Entry[] }
type Entry = FieldEntry | GroupEntry;

interface MessageDefinition { name: string; msgType: string; entries: Entry[] }

const ADMIN_TYPES = new Set(['0', '1', '2', '3', '4', '5', 'A']);
const HEADER_REQUIRED = new Set(['BeginString', 'BodyLength', 'MsgType', 'SenderCompID', 'TargetCompID', 'MsgSeqNum', 'SendingTime']);
const TRAILER_REQUIRED = new Set(['CheckSum']);

/** Fields and groups of one class body (message, header or trailer), groups nested as declared. */
function parseEntries(source: string, required: Set<string>): Entry[] {
  const root: Entry[] = [];
  const stack: Entry[][] = [];
  for (const line of source.split('\n')) {
    const fieldSet = /FIELD_SET\(\*this, FIX::(\w+)\)/.exec(line);
    const groupClass = /class (\w+)\s*:\s*public FIX::Group/.exec(line);
    const ownClass = /^\s*class \w+ : public (Message|FIX::Header|FIX::Trailer)\b/.exec(line);
    const current = stack[stack.length - 1];
    if (ownClass) stack.push(root);
    else if (groupClass && current) {
      const name = groupClass[1]!;
      const index = current.findLastIndex((entry) => entry.name === name);
      if (index < 0) throw new DictionaryGenerationError(`group ${name} declared before its count field`);
      const group: GroupEntry = { kind: 'group', name, required: current[index]!.required, entries: [] };
      current[index] = group;
      stack.push(group.entries);
    } else if (/^\s*};\s*$/.test(line)) stack.pop();
    else if (fieldSet && current) {
      const name = fieldSet[1]!;
      current.push({ kind: 'field', name, required: stack.length === 1 && required.has(name) });
    }
  }
  return root;
}

function parseMessage(source: string): MessageDefinition | undefined {
  const declaration = /class (\w+) : public Message/.exec(source);
  const msgType = /MsgType\(\) \{ return FIX::MsgType\("([^"]+)"\); \}/.exec(source);
  if (!declaration || !msgType) return undefined;
  const name = declaration[1]!;
  const constructor = new RegExp(`${name}\\(\\s*\\n([^)]*)\\)\\s*\\n\\s*: Message`).exec(source);
  const required = new Set([...(constructor?.[1] ?? '').matchAll(/const FIX::(\w+)&/g)].map((match) => match[1]!));
  return { name, msgType: msgType[1]!, entries: parseEntries(source, required) };
}

function parseFields(includeDir: string): Map<string, { tag: number; type: string; values: string[] }> {
  const numbers = readFileSync(join(includeDir, 'FixFieldNumbers.h'), 'utf8');
  const types = readFileSync(join(includeDir, 'FixFields.h'), 'utf8');
  const values = readFileSync(join(includeDir, 'FixValues.h'), 'utf8');
  const fields = new Map<string, { tag: number; type: string; values: string[] }>();
  for (const [, name, tag] of numbers.matchAll(/const int (\w+) = (\d+);/g)) fields.set(name!, { tag: Number(tag), type: 'STRING', values: [] });
  for (const [, type, name] of types.matchAll(/DEFINE_([A-Z]+)\((\w+)\);/g)) {
    const field = fields.get(name!);
    if (field) field.type = type!;
  }
  // `const char Side_BUY = '1';`, `const int AllocStatus_RECEIVED = 3;`, `const char X_Y[] = "ABC";`, `const bool X_YES = true;`
  for (const [, name, literal] of values.matchAll(/const \w+ (\w+?)_\w+(?:\[\])? = ([^;]+);/g)) {
    const field = fields.get(name!);
    if (!field || literal === undefined) continue;
    const value = literal === 'true' ? 'Y' : literal === 'false' ? 'N' : literal.replace(/^['"]|['"]$/g, '');
    if (!field.values.includes(value)) field.values.push(value);
  }
  return fields;
}

function entriesXml(entries: Entry[], indent: string): string {
  return entries
    .map((entry) => {
      const required = entry.required ? 'Y' : 'N';
      if (entry.kind === 'field') return `${indent}<field name="${entry.name}" required="${required}"/>`;
      return `${indent}<group name="${entry.name}" required="${required}">\n${entriesXml(entry.entries, `${indent}  `)}\n${indent}</group>`;
    })
    .join('\n');
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function fix44Dictionary(includeDir: string): string {
  const messagesDir = join(includeDir, 'fix44');
  const base = readFileSync(join(messagesDir, 'Message.h'), 'utf8');
  const headerSource = /class Header[\s\S]*?\n  };/.exec(base)?.[0];
  const trailerSource = /class Trailer[\s\S]*?\n  };/.exec(base)?.[0];
  if (!headerSource || !trailerSource) throw new DictionaryGenerationError(`no FIX44 Header/Trailer in ${messagesDir}/Message.h`);
  const header = parseEntries(headerSource.replace('class Header : public FIX::Header', '  class Header : public FIX::Header'), HEADER_REQUIRED);
  const trailer = parseEntries(trailerSource.replace('class Trailer : public FIX::Trailer', '  class Trailer : public FIX::Trailer'), TRAILER_REQUIRED);
  const messages = readdirSync(messagesDir)
    .filter((file) => file.endsWith('.h') && file !== 'Message.h' && file !== 'MessageCracker.h')
    .sort()
    .map((file) => parseMessage(readFileSync(join(messagesDir, file), 'utf8')))
    .filter((message): message is MessageDefinition => message !== undefined);
  if (!messages.some((message) => message.msgType === 'J')) throw new DictionaryGenerationError('no AllocationInstruction among the FIX44 headers');
  const fields = parseFields(includeDir);

  const messagesXml = messages
    .map((message) => {
      const category = ADMIN_TYPES.has(message.msgType) ? 'admin' : 'app';
      return `  <message name="${message.name}" msgtype="${message.msgType}" msgcat="${category}">\n${entriesXml(message.entries, '    ')}\n  </message>`;
    })
    .join('\n');
  const fieldsXml = [...fields.entries()]
    .sort((a, b) => a[1].tag - b[1].tag)
    .map(([name, field]) => {
      const values = field.values.map((value) => `\n    <value enum="${escapeXml(value)}" description="V${escapeXml(value)}"/>`).join('');
      return `  <field number="${field.tag}" name="${name}" type="${field.type}"${values ? `>${values}\n  </field>` : '/>'}`;
    })
    .join('\n');
  return [
    '<fix major="4" minor="4" servicepack="0" type="FIX">',
    `<header>\n${entriesXml(header, '  ')}\n</header>`,
    `<trailer>\n${entriesXml(trailer, '  ')}\n</trailer>`,
    `<messages>\n${messagesXml}\n</messages>`,
    '<components>\n</components>',
    `<fields>\n${fieldsXml}\n</fields>`,
    '</fix>',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('fix44-dictionary.ts')) {
  const [includeDir, output] = process.argv.slice(2);
  if (!includeDir || !output) throw new DictionaryGenerationError('usage: fix44-dictionary.ts <quickfix include dir> <output FIX44.xml>');
  writeFileSync(output, fix44Dictionary(includeDir));
}
