; Capability uses in Lua. The capture names are those of python.scm; modules are tables, so
; aliases (`local run = os.execute`) and the global table (_G, _ENV) are followed.

(identifier) @ref
(dot_index_expression) @chain
(bracket_index_expression) @chain
(method_index_expression) @chain
(function_call name: (_) @call.function arguments: (_) @call.args) @call

(function_declaration name: (identifier) @skip)
(parameters name: (identifier) @skip)
(for_numeric_clause name: (identifier) @skip)
(for_generic_clause (variable_list name: (identifier) @skip))
(assignment_statement (variable_list name: (identifier) @bind.name) (expression_list value: (_) @bind.value))
