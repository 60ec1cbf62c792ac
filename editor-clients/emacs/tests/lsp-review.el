;;; lsp-review.el --- review and a finding's quick fix in lsp-mode (fake engine)  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers every model request with the same review (JSON
;; findings).  ENCLAVE_TEST_FIX_TITLE: the title of the finding's quick fix.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-all-diagnostics ()
  "lsp-mode's diagnostics in this buffer, from any server, as [SOURCE LINE MESSAGE]."
  (vconcat (cl-loop for d in (lsp--get-buffer-diagnostics)
                    collect (vector (lsp-get d :source)
                                    (1+ (lsp-get (lsp-get (lsp-get d :range) :start) :line))
                                    (lsp-get d :message)))))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (enclave-test-wait "the other server's warning" 30
                      (lambda () (> (length (lsp--get-buffer-diagnostics)) 0)))

   ;; M-x enclave-lsp-review on the whole buffer: its findings join lsp-mode's diagnostics.
   (let ((result (call-interactively #'enclave-lsp-review)))
     (enclave-test-put "review_result" result)
     (enclave-test-wait "Enclave's findings among lsp-mode's diagnostics" 30
                        (lambda () (>= (length (enclave-test-enclave-diagnostics))
                                       (lsp-get result :findings)))))
   (enclave-test-put "diagnostics_after_review" (enclave-test-all-diagnostics))

   ;; M-x enclave-lsp-code-actions on the finding's line: its quick fix, applied.
   (let ((line (aref (car (enclave-test-enclave-diagnostics)) 0)))
     (goto-char (point-min))
     (forward-line (1- line))
     (back-to-indentation)
     (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_FIX_TITLE")
                          (lambda () (call-interactively #'enclave-lsp-code-actions)))
     (enclave-test-put "titles_at_finding" (cdr (assoc "choices" enclave-test-results)))
     (enclave-test-put "line_after_fix" (enclave-test-line))
     (enclave-test-wait "the fixed finding leaves lsp-mode's diagnostics" 30
                        (lambda () (null (enclave-test-enclave-diagnostics)))))
   (enclave-test-put "diagnostics_after_fix" (enclave-test-all-diagnostics))
   (enclave-test-put "document" (enclave-test-document-state))
   (enclave-test-put "status" (enclave-lsp-status))))

;;; lsp-review.el ends here
