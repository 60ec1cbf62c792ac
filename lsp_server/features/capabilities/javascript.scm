; inherits: ecmascript
(formal_parameters (identifier) @skip)
