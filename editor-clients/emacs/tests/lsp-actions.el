;;; lsp-actions.el --- refactor, rewrite and explain in lsp-mode (fake engine)  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers every model request with the same code block (a
;; new version of the first function).  ENCLAVE_TEST_REFACTOR_TITLE: the refactor to choose.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-revert ()
  "Back to the file on disk, as M-x revert-buffer."
  (revert-buffer t t t)
  (enclave-test-wait-synced "Enclave has the reverted text"))

(defun enclave-test-titles (actions)
  (vconcat (mapcar (lambda (a) (lsp-get a :title)) actions)))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (let ((title (enclave-test-env "ENCLAVE_TEST_REFACTOR_TITLE"))
         (original (buffer-string)))
     (enclave-test-put "original" original)

     ;; The other server's warning is on line 1: lsp-mode has it.
     (enclave-test-wait "the other server's warning" 30
                        (lambda () (> (length (lsp--get-buffer-diagnostics)) 0)))

     ;; What lsp-mode's own M-x lsp-execute-code-action lists on the def line: both servers'.
     (enclave-test-goto "^def area")
     (enclave-test-put "lsp_mode_titles" (enclave-test-titles (lsp-code-actions-at-point)))

     ;; M-x enclave-lsp-code-actions: Enclave's alone (with "Fix with Enclave" for the other
     ;; server's warning), the refactor chosen, resolved by Enclave, applied.
     (enclave-test-choose title (lambda () (call-interactively #'enclave-lsp-code-actions)))
     (enclave-test-put "enclave_titles" (cdr (assoc "choices" enclave-test-results)))
     (enclave-test-put "after_enclave_code_actions" (buffer-string))
     (enclave-test-put "document_after_refactor" (enclave-test-document-state))
     (enclave-test-revert)

     ;; M-x lsp-execute-code-action, the same choice.
     (enclave-test-goto "^def area")
     (condition-case err
         (enclave-test-choose title (lambda () (call-interactively #'lsp-execute-code-action)))
       (error (enclave-test-put "lsp_mode_refactor_error" (error-message-string err))))
     (enclave-test-put "after_lsp_execute_code_action" (buffer-string))
     (enclave-test-revert)

     ;; "Rewrite with instruction...": the instruction is asked, the server sends the edit.
     (enclave-test-goto "^def area")
     (cl-letf (((symbol-function 'read-string) (lambda (&rest _) "add a docstring")))
       (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_REWRITE_TITLE")
                            (lambda () (call-interactively #'enclave-lsp-code-actions))))
     (enclave-test-wait "the rewrite's edit" 30
                        (lambda () (not (equal (buffer-string) original))))
     (enclave-test-put "after_rewrite" (buffer-string))
     (enclave-test-revert)

     ;; M-x enclave-lsp-explain with point in the function; then "Explain with Enclave" chosen
     ;; in lsp-mode's own menu, which runs it through the configuration's action handler.
     (enclave-test-goto "^def area")
     (call-interactively #'enclave-lsp-explain)
     (enclave-test-put "explanation"
                       (with-current-buffer "*Enclave explanation*" (buffer-string)))
     (kill-buffer "*Enclave explanation*")
     (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_EXPLAIN_TITLE")
                          (lambda () (call-interactively #'lsp-execute-code-action)))
     (enclave-test-put "explanation_from_lsp_menu"
                       (with-current-buffer "*Enclave explanation*" (buffer-string)))
     (enclave-test-put "buffer_at_end" (buffer-string))

     ;; "Fix with Enclave" for the other server's warning, chosen and applied.
     (enclave-test-goto "^def area")
     (condition-case err
         (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_FIX_TITLE")
                              (lambda () (call-interactively #'enclave-lsp-code-actions)))
       (error (enclave-test-put "fix_error" (error-message-string err))))
     (enclave-test-put "after_fix" (buffer-string))
     (enclave-test-put "document_after_fix" (enclave-test-document-state)))))

;;; lsp-actions.el ends here
