; Capability uses in JavaScript, TypeScript and TSX (javascript.scm and typescript.scm add what
; differs). The capture names are those of python.scm.

(identifier) @ref
(shorthand_property_identifier) @ref
(member_expression) @chain
(subscript_expression) @chain
(call_expression function: (_) @call.function arguments: (arguments) @call.args) @call
(new_expression constructor: (_) @call.function arguments: (arguments) @call.args) @call
(call_expression function: (_) @call.function arguments: (template_string) @call.args) @call

(function_declaration name: (identifier) @skip)
(generator_function_declaration name: (identifier) @skip)
(function_expression name: (identifier) @skip)
(class_declaration name: (_) @skip)
(class name: (_) @skip)
(arrow_function parameter: (identifier) @skip)
(assignment_pattern left: (identifier) @skip)
(rest_pattern (identifier) @skip)
(array_pattern (identifier) @skip)
(variable_declarator name: (identifier) @skip)
(pair_pattern value: (identifier) @skip)
(catch_clause parameter: (identifier) @skip)
(import_clause (identifier) @skip)
(namespace_import (identifier) @skip)
(import_specifier (identifier) @skip)
(export_specifier (identifier) @skip)
(labeled_statement label: (_) @skip)

(import_statement (import_clause (identifier) @import.alias) source: (string) @import.module)
(import_statement (import_clause (namespace_import (identifier) @import.alias)) source: (string) @import.module)
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name !alias)))
  source: (string) @import.module)
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name alias: (identifier) @import.alias)))
  source: (string) @import.module)
(import_statement . "import" . source: (string) @import.module) @import.bare
(export_statement source: (string) @import.module) @import.bare

(variable_declarator name: (_) @bind.name value: (_) @bind.value)
(assignment_expression left: (identifier) @bind.name right: (_) @bind.value)
