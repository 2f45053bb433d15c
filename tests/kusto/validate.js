#!/usr/bin/env node
// Checks KQL with Microsoft's own parser, Kusto.Language (npm @kusto/language-service-next).
//
// Test-only. Reads one JSON object on stdin:
//   {"tables": {"SigninLogs": [["ResultType", "string"], ...]},
//    "queries": [{"id": "q1", "text": "SigninLogs | take 1"}]}
// builds one database holding those tables, parses and analyses every query against it, and
// writes one JSON object on stdout:
//   {"parser": {...}, "results": {"q1": {"diagnostics": [...], "fingerprint": [...],
//    "literals": [...], "columns": [...], "comparisons": [...]}}}
//
// fingerprint: every syntax element in tree order as "depth:Kind", plus ":text" for tokens that
// are not literals, so two queries differing only in a literal's value share a fingerprint.
// comparisons: the operand types of ==, !=, in, !in, in~ and !in~, which Kusto.Language accepts
// between string and number although the service rejects them; tests/kusto_parser.py lints these.
//
// Bad input (unparsable JSON, unknown column type) exits 2 with the reason on stderr.
"use strict";

const fs = require("fs");
const path = require("path");

const PACKAGE = "@kusto/language-service-next";
require(`${PACKAGE}/bridge.min.js`);
require(`${PACKAGE}/Kusto.Language.Bridge.min.js`);

const Kusto = global.Kusto.Language;
const Symbols = Kusto.Symbols;
const Syntax = Kusto.Syntax;
const { Bridge, System } = global;

const COLUMN_TYPES = new Set(["string", "dynamic", "datetime", "bool", "int", "long", "real"]);
const COMPARED_KINDS = new Set([
    "EqualExpression",
    "NotEqualExpression",
    "InExpression",
    "InCsExpression",
    "NotInExpression",
    "NotInCsExpression",
]);
const OPERAND_TEXT_LIMIT = 80;

class InputError extends Error {}

function packageVersion() {
    const manifest = require.resolve(`${PACKAGE}/package.json`);
    return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

function kindName(element) {
    return System.Enum.getName(Syntax.SyntaxKind, element.Kind);
}

function items(list) {
    const result = [];
    for (let i = 0; i < list.Count; i++) {
        result.push(list.getItem(i));
    }
    return result;
}

function buildGlobals(tables) {
    const tableSymbols = Object.entries(tables).map(([tableName, columns]) => {
        const columnSymbols = columns.map(([name, type]) => {
            if (!COLUMN_TYPES.has(type)) {
                throw new InputError(
                    `table ${tableName}, column ${name}: unknown Kusto type ${JSON.stringify(type)}` +
                        `; expected one of ${[...COLUMN_TYPES].join(", ")}`,
                );
            }
            const scalar = Symbols.ScalarTypes.GetSymbol(type);
            return new Symbols.ColumnSymbol(name, scalar, null, null, null, null);
        });
        return new Symbols.TableSymbol.$ctor4(tableName, columnSymbols);
    });
    const database = new Symbols.DatabaseSymbol.ctor("entra_hunt", tableSymbols);
    return Kusto.GlobalState.Default.WithDatabase(database);
}

function position(code, offset) {
    const line = { v: 0 };
    const column = { v: 0 };
    if (!code.TryGetLineAndOffset(offset, line, column)) {
        return { line: null, column: null };
    }
    return { line: line.v, column: column.v };
}

function diagnostics(code) {
    return items(code.GetDiagnostics()).map((diagnostic) => ({
        severity: diagnostic.Severity,
        code: diagnostic.Code,
        category: diagnostic.Category,
        message: diagnostic.Message,
        start: diagnostic.Start,
        length: diagnostic.Length,
        ...position(code, diagnostic.Start),
    }));
}

function fingerprint(root) {
    const entries = [];
    root.WalkElements((element) => {
        let entry = `${element.Depth}:${kindName(element)}`;
        if (element.IsToken && !element.IsLiteral && element.Text) {
            entry += `:${element.Text}`;
        }
        if (element.IsMissing) {
            entry += ":<missing>";
        }
        entries.push(entry);
    });
    return entries;
}

function literals(root) {
    const found = [];
    root.WalkTokens((token) => {
        if (token.IsLiteral) {
            const value = token.Value;
            found.push({
                kind: kindName(token),
                text: token.Text,
                value: typeof value === "string" ? value : token.ValueText,
                start: token.TextStart,
            });
        }
    });
    return found;
}

function columns(root) {
    const found = [];
    root.WalkNodes((node) => {
        const symbol = node.ReferencedSymbol;
        if (kindName(node) === "NameReference" && Bridge.is(symbol, Symbols.ColumnSymbol)) {
            found.push({ name: symbol.Name, type: symbol.Type.Name, start: node.TextStart });
        }
    });
    return found;
}

function typeName(type) {
    if (Bridge.is(type, Symbols.ScalarSymbol)) {
        return type.Name;
    }
    if (Bridge.is(type, Symbols.TableSymbol) && type.Columns.Count === 1) {
        return type.Columns.getItem(0).Type.Name;
    }
    return null;
}

function operand(expression) {
    const symbol = expression.ReferencedSymbol;
    let text = expression.toString().trim();
    if (text.length > OPERAND_TEXT_LIMIT) {
        text = `${text.slice(0, OPERAND_TEXT_LIMIT)}...`;
    }
    return {
        text,
        type: typeName(expression.ResultType),
        column: Bridge.is(symbol, Symbols.ColumnSymbol) ? symbol.Name : null,
        start: expression.TextStart,
    };
}

function comparisons(code) {
    const found = [];
    code.Syntax.WalkNodes((node) => {
        const kind = kindName(node);
        if (!COMPARED_KINDS.has(kind)) {
            return;
        }
        const right = Bridge.is(node.Right, Syntax.ExpressionList)
            ? items(node.Right.Expressions).map((separated) => separated.Element)
            : [node.Right];
        found.push({
            kind,
            operator: node.Operator.Text,
            start: node.TextStart,
            length: node.Width,
            ...position(code, node.TextStart),
            left: operand(node.Left),
            right: right.map(operand),
        });
    });
    return found;
}

function analyse(text, globals) {
    const code = Kusto.KustoCode.ParseAndAnalyze(text, globals);
    return {
        diagnostics: diagnostics(code),
        fingerprint: fingerprint(code.Syntax),
        literals: literals(code.Syntax),
        columns: columns(code.Syntax),
        comparisons: comparisons(code),
    };
}

function main() {
    let request;
    try {
        request = JSON.parse(fs.readFileSync(0, "utf8"));
    } catch (error) {
        throw new InputError(`stdin is not one JSON object: ${error.message}`);
    }
    const globals = buildGlobals(request.tables || {});
    const results = {};
    for (const query of request.queries || []) {
        results[query.id] = analyse(query.text, globals);
    }
    const parser = { package: PACKAGE, version: packageVersion(), script: path.basename(__filename) };
    process.stdout.write(JSON.stringify({ parser, results }));
}

try {
    main();
} catch (error) {
    if (!(error instanceof InputError)) {
        throw error;
    }
    process.stderr.write(`validate.js: ${error.message}\n`);
    process.exitCode = 2;
}
