; inherits: c
; C++: qualified names (std::system, ::popen).
(qualified_identifier) @chain
