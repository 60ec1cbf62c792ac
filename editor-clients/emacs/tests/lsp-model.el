;;; lsp-model.el --- ghost text from the real model beside another server  -*- lexical-binding: t; -*-

;; The server with its default settings (the default model).  A space typed after `return'
;; in the first function; the pause asks Enclave; M-n and M-p cycle; TAB accepts.  Then a
;; review of the buffer, and a refactor chosen in M-x enclave-lsp-code-actions.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (enclave-test-goto "^    return$")
   (enclave-test-keys "SPC")
   (enclave-test-put "line_before" (enclave-test-line))
   ;; On a loaded machine the first answer can come back empty (the model had not finished
   ;; reading the prompt by completion.deadlineMs); a user asks again (M-x
   ;; enclave-lsp-suggest), and the server reuses the prompt it read.  At most three asks.
   (let ((started (float-time)) (asks 1) (empty-reasons nil))
     (enclave-test-wait-answer "the answer to the pause" 300)
     (while (and (not (enclave-test-ghost)) (< asks 3))
       (push (lsp-get (enclave-lsp-status) :lastEmptyReason) empty-reasons)
       (cl-incf asks)
       (enclave-lsp-suggest)
       (enclave-test-wait-answer "the answer to M-x enclave-lsp-suggest" 300))
     (enclave-test-put "asks" asks)
     (enclave-test-put "empty_reasons" (vconcat (reverse empty-reasons)))
     (enclave-test-put "seconds" (- (float-time) started)))
   (enclave-test-put "ghost" (enclave-test-ghost))
   ;; M-n asks again (an invoked request: the model's alternatives from the same prompt)
   ;; and shows the first that differs; M-p goes back through that answer's items to the
   ;; suggestion first shown, which TAB then accepts.
   (let ((first (enclave-test-ghost)) (asked (enclave-test-inline-requests)))
     (enclave-test-keys "M-n")
     (enclave-test-wait "the invoked request sent" 30
                        (lambda () (> (enclave-test-inline-requests) asked)))
     (enclave-test-wait-answer "the answer to M-n" 300)
     (enclave-test-put "cycle" `(("requests" . ,(- (enclave-test-inline-requests) asked))
                                 ("ghost" . ,(enclave-test-ghost))
                                 ("items" . ,(enclave-test-items))))
     (let ((items (enclave-test-items)) (back 0))
       (while (and (cdr (append items nil)) (< back (length items))
                   (not (equal (enclave-test-ghost) first)))
         (enclave-test-keys "M-p")
         (cl-incf back))
       (enclave-test-put "cycle_back" `(("ghost" . ,(enclave-test-ghost))
                                        ("presses" . ,back)
                                        ("requests" . ,(- (enclave-test-inline-requests)
                                                          asked))))))
   (let ((start (point)))
     (enclave-test-keys "TAB")
     (enclave-test-put "inserted" (buffer-substring-no-properties start (point))))
   (enclave-test-put "buffer" (buffer-string))
   (enclave-test-wait-synced "Enclave has the accepted text")
   (enclave-test-put "document" (enclave-test-document-state))
   (enclave-test-put "status" (enclave-lsp-status))

   ;; M-x enclave-lsp-review: the model's findings join lsp-mode's diagnostics.
   (let ((result (call-interactively #'enclave-lsp-review)))
     (enclave-test-put "review_result" result)
     (enclave-test-wait "Enclave's findings among lsp-mode's diagnostics" 60
                        (lambda () (>= (length (enclave-test-enclave-diagnostics))
                                       (lsp-get result :findings))))
     (enclave-test-put "review_diagnostics" (vconcat (enclave-test-enclave-diagnostics))))

   ;; M-x enclave-lsp-code-actions on `average', choosing a refactor the model runs on resolve.
   (enclave-test-goto "^def average")
   (let ((before (buffer-string)))
     (condition-case err
         (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_REFACTOR_TITLE")
                              (lambda () (call-interactively #'enclave-lsp-code-actions)))
       (user-error (enclave-test-put "refactor_error" (error-message-string err))))
     (enclave-test-put "refactor_before" before)
     (enclave-test-put "refactor_changed_buffer" (if (equal before (buffer-string)) :json-false t))
     (enclave-test-put "buffer_after_refactor" (buffer-string)))
   (enclave-test-wait-synced "Enclave has the refactored text")
   (enclave-test-put "document_after_refactor" (enclave-test-document-state))
   (enclave-test-put "status_after_actions" (enclave-lsp-status))))

;;; lsp-model.el ends here
