;;; lsp-ruff.el --- Enclave beside a real language server: ruff's, pyright's  -*- lexical-binding: t; -*-

;; OTHER_SERVER_CMD is a real server instead of the stand-in: `ruff server' (the ruff of the
;; test's environment) or pyright's.  The file has a line the other server reports
;; (ENCLAVE_TEST_AT, a regexp: by default ruff's F401 on an unused import); a function is
;; typed at its end.  The server's scripted fake engine answers with a fixed block.

(load (expand-file-name "lsp-runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-diagnostics-by-server ()
  "lsp-mode's diagnostics in this buffer as [SOURCE LINE CODE]."
  (vconcat (cl-loop for d in (lsp--get-buffer-diagnostics)
                    collect (vector (or (lsp-get d :source) "")
                                    (1+ (lsp-get (lsp-get (lsp-get d :range) :start) :line))
                                    (format "%s" (or (lsp-get d :code) ""))))))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   (enclave-test-wait "the other server's diagnostic" 60
                      (lambda () (> (length (lsp--get-buffer-diagnostics)) 0)))
   (enclave-test-put "diagnostics" (enclave-test-diagnostics-by-server))

   ;; On the reported line: lsp-mode's own menu has the other server's fixes; Enclave's
   ;; lists "Fix with Enclave" for its diagnostic, and nothing of the other server's.
   (enclave-test-goto (enclave-test-env "ENCLAVE_TEST_AT" "^import os"))
   (enclave-test-put "lsp_mode_titles"
                     (vconcat (mapcar (lambda (a) (lsp-get a :title)) (lsp-code-actions-at-point))))
   (condition-case nil                  ; the menu read, nothing chosen
       (enclave-test-choose "(nothing)"
                            (lambda () (call-interactively #'enclave-lsp-code-actions)))
     (error nil))
   (enclave-test-put "enclave_titles" (cdr (assoc "choices" enclave-test-results)))

   ;; A new function typed at the end; ghost text in its body, accepted with TAB.
   (goto-char (point-max))
   (insert "\n\ndef neg(x):")
   (enclave-test-keys "RET")
   (enclave-test-wait-ghost "the suggestion after RET")
   (enclave-test-put "ghost" (enclave-test-ghost))
   (enclave-test-keys "TAB")
   (enclave-test-put "buffer" (buffer-string))
   (enclave-test-wait-synced "Enclave has the accepted text")
   (enclave-test-put "document" (enclave-test-document-state))
   (enclave-test-put "servers_at_end" (enclave-test-server-ids))))

;;; lsp-ruff.el ends here
