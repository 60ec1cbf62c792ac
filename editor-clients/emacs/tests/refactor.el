;;; refactor.el --- refactor, rewrite and explain with the fake engine  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers every model request with the same code block (a
;; new version of the first function), so this runs in seconds.
;; ENCLAVE_TEST_REFACTOR_TITLE: the refactor to choose.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-revert ()
  "Back to the file on disk, as M-x revert-buffer (Eglot sends the change)."
  (revert-buffer t t t)
  (enclave-test-wait-synced "the server has the reverted text"))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (let ((title (enclave-test-env "ENCLAVE_TEST_REFACTOR_TITLE"))
         (original (buffer-string)))
     (enclave-test-put "original" original)

     ;; M-x eglot-code-actions, choosing the refactor: Eglot 1.9 cannot resolve, so the
     ;; server offers it as the enclave.lsp.refactor command and applies the edit itself.
     (enclave-test-goto "^def area")
     (enclave-test-choose title (lambda () (call-interactively #'eglot-code-actions)))
     (enclave-test-wait "the refactor's edit" 30
                        (lambda () (not (equal (buffer-string) original))))
     (enclave-test-put "after_eglot_code_actions" (buffer-string))
     (enclave-test-revert)

     ;; M-x enclave-code-actions, the same choice: resolved, then applied.
     (enclave-test-goto "^def area")
     (enclave-test-choose title (lambda () (call-interactively #'enclave-code-actions)))
     (enclave-test-put "after_enclave_code_actions" (buffer-string))
     (enclave-test-put "document_after_refactor" (enclave-test-document-state))
     (enclave-test-revert)

     ;; The "Rewrite with instruction..." action: the instruction is asked, the server sends
     ;; the edit with workspace/applyEdit, Eglot asks before applying it.
     (enclave-test-goto "^def area")
     (let ((rewrite (cl-find "enclave.lsp.rewrite" (eglot-code-actions (point))
                             :key (lambda (a) (plist-get (plist-get a :command) :command))
                             :test #'equal)))
       (cl-letf (((symbol-function 'read-string) (lambda (&rest _) "add a docstring")))
         (enclave-test-choose (plist-get rewrite :title)
                              (lambda () (call-interactively #'enclave-code-actions))))
       (enclave-test-put "rewrite_questions" (cdr (assoc "questions" enclave-test-results))))
     (enclave-test-put "after_rewrite" (buffer-string))
     (enclave-test-revert)

     ;; M-x enclave-explain with point in the function.
     (enclave-test-goto "^def area")
     (call-interactively #'enclave-explain)
     (enclave-test-put "explanation"
                       (with-current-buffer "*Enclave explanation*" (buffer-string)))

     ;; Settings changed later: eglot-workspace-configuration, sent by Eglot as
     ;; workspace/didChangeConfiguration.  Completion off: completion-at-point gets no item.
     (setq-default eglot-workspace-configuration '(:enclave (:completion (:enabled :json-false))))
     (eglot-signal-didChangeConfiguration (eglot-current-server))
     (goto-char (point-max))
     (insert "\n\ndef double(x):\n    return ")
     (enclave-test-complete)
     (enclave-test-put "completion_when_off" (car enclave-test-completion-answers))
     (enclave-test-put "status_when_off" (enclave-status)))))

;;; refactor.el ends here
