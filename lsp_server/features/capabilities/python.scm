; Capability uses in Python (read by features/capabilities/__init__.py).
; @ref: a name that may start a reference; @skip: a name being defined, never a reference.
; @chain: member access, so that chains starting at a literal or a call are seen too.
; @import.module / @import.name / @import.alias / @import.wildcard: what an import binds.
; @bind.name / @bind.value: `name = value`, for aliases of modules and functions.
; @call / @call.function / @call.args: calls, for getattr, __import__ and the like.

(identifier) @ref
(attribute) @chain
(subscript) @chain
(call function: (_) @call.function arguments: (argument_list) @call.args) @call

(function_definition name: (identifier) @skip)
(class_definition name: (identifier) @skip)
(parameters (identifier) @skip)
(lambda_parameters (identifier) @skip)
(default_parameter name: (identifier) @skip)
(typed_parameter (identifier) @skip)
(typed_default_parameter name: (identifier) @skip)
(list_splat_pattern (identifier) @skip)
(dictionary_splat_pattern (identifier) @skip)
(keyword_argument name: (identifier) @skip)
(global_statement (identifier) @skip)
(nonlocal_statement (identifier) @skip)
(dotted_name (identifier) @skip)
(aliased_import alias: (identifier) @skip)

(import_statement name: (dotted_name) @import.module)
(import_statement name: (aliased_import name: (dotted_name) @import.module alias: (identifier) @import.alias))
(import_from_statement module_name: (_) @import.module name: (dotted_name) @import.name)
(import_from_statement
  module_name: (_) @import.module
  name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias))
(import_from_statement module_name: (_) @import.module (wildcard_import) @import.wildcard)
(future_import_statement name: (dotted_name) @skip)

(assignment left: (identifier) @bind.name right: (_) @bind.value)
(named_expression name: (identifier) @bind.name value: (_) @bind.value)
