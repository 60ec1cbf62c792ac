;;; lsp-cycle.el --- cycling through Enclave's suggestions in lsp-mode (fake engine)  -*- lexical-binding: t; -*-

;; The fake engine answers "return a + b" and, to an invoked request, two alternatives.  The
;; file opens as "def add(a, b):\n"; point goes to the end of that line and the user presses RET.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-observe (key)
  "Record under KEY the line, the ghost text, the requests so far and what M-n runs."
  (enclave-test-put key `(("line" . ,(enclave-test-line))
                          ("ghost" . ,(enclave-test-ghost))
                          ("requests" . ,(enclave-test-inline-requests))
                          ("m_n" . ,(symbol-name (key-binding (kbd "M-n")))))))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (enclave-test-goto "def add(a, b):")
   (enclave-test-observe "before")
   (enclave-test-keys "RET")
   (enclave-test-wait-ghost "the suggestion after RET")
   (enclave-test-wait-answer "no request running" 30)
   (enclave-test-observe "shown")
   ;; M-n: the automatic answer had one item; an invoked request brings the alternatives,
   ;; and the first that shows something else is shown.
   (enclave-test-keys "M-n")
   (enclave-test-wait "the next suggestion" 60
                      (lambda () (not (equal (enclave-test-ghost) "return a + b"))))
   (enclave-test-wait-answer "no request running" 30)
   (enclave-test-observe "next")
   ;; Then through the items of that answer, without asking again, both ways round.
   (enclave-test-keys "M-n")
   (enclave-test-observe "next_again")
   (enclave-test-keys "M-n")
   (enclave-test-observe "wrapped")
   (enclave-test-keys "M-p")
   (enclave-test-observe "previous")
   ;; TAB inserts the one shown, and Enclave counts that item accepted.
   (enclave-test-keys "TAB")
   (enclave-test-observe "accepted")
   (enclave-test-wait-accepts 1 "the acceptance counted")
   (enclave-test-put "accepted_stats" (enclave-test-session-stats))
   (enclave-test-put "buffer" (buffer-string))
   ;; With nothing shown, M-x enclave-lsp-previous asks now and shows the last item.
   (goto-char (point-max))
   (insert "\n\ndef add2(a, b):\n    ")
   (enclave-test-keys "C-e")
   (enclave-lsp-dismiss)
   (call-interactively #'enclave-lsp-previous)
   (enclave-test-wait-ghost "a suggestion asked for by M-x enclave-lsp-previous")
   (enclave-test-wait-answer "no request running" 30)
   (enclave-test-observe "asked_previous")))

;;; lsp-cycle.el ends here
