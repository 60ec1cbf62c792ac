;;; completion.el --- a block through completion-at-point  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers with a fixed block of code.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   ;; Point on the empty, indented line of the body; M-x completion-at-point.
   (enclave-test-goto "^    $")
   (let ((start (point)))
     (enclave-test-complete)
     (enclave-test-put "completion_answer" (car enclave-test-completion-answers))
     (enclave-test-put "inserted" (buffer-substring start (point))))
   (enclave-test-put "buffer" (buffer-string))
   (enclave-test-put "point" (vector (line-number-at-pos) (current-column)))
   (enclave-test-wait-synced "the server has the completed text")))

;;; completion.el ends here
