;;; protocol.el --- actions, review, quick fix (fake engine)  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers every model request with the same review (JSON
;; findings), so this runs in seconds.  ENCLAVE_TEST_REFACTOR_TITLE: a refactor to choose.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(defun enclave-test-action-summary (action)
  `(("title" . ,(plist-get action :title))
    ("kind" . ,(plist-get action :kind))
    ("edit" . ,(if (plist-get action :edit) t :json-false))
    ("command" . ,(let ((c (plist-get action :command)))
                    (if (stringp c) c (plist-get c :command))))
    ("data" . ,(if (plist-get action :data) t :json-false))))

(enclave-test-run
 (lambda ()
   (let ((server (progn (enclave-test-connect) (eglot-current-server))))
     (enclave-test-put "capabilities" (eglot--capabilities server))
     (enclave-test-put "flymake_backends"
                       (vconcat (mapcar #'symbol-name
                                        (remq t flymake-diagnostic-functions))))

     ;; Code actions on the name of a function, as M-x eglot-code-actions asks for them: on
     ;; `average', whose loop and locals leave every refactor something to do.
     (enclave-test-goto "^def average")
     (enclave-test-put "actions_at_function"
                       (vconcat (mapcar #'enclave-test-action-summary
                                        (apply #'eglot-code-actions (eglot--region-bounds)))))

     ;; M-x eglot-code-actions, choosing a refactor: it runs as the enclave.lsp.refactor command
     ;; (Eglot 1.9 cannot resolve); the fake answer here is a review, so the server refuses it.
     (let ((before (buffer-string)))
       (enclave-test-choose (enclave-test-env "ENCLAVE_TEST_REFACTOR_TITLE")
                            (lambda () (call-interactively #'eglot-code-actions)))
       (accept-process-output nil 0.5)
       (enclave-test-put "eglot_refactor_changed_buffer"
                         (if (equal before (buffer-string)) :json-false t)))

     (enclave-test-review)

     ;; M-x eglot-code-actions on the finding: Eglot sends the Flymake diagnostic along, the
     ;; server answers its quick fix (with an edit), Eglot applies it.
     (let* ((diag (cl-find-if (lambda (d) (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))
                              (flymake-diagnostics)))
            (beg (flymake-diagnostic-beg diag))
            (end (flymake-diagnostic-end diag))
            (line (line-number-at-pos beg))
            (actions (eglot-code-actions beg end))
            (fix (cl-find "quickfix" actions
                          :key (lambda (a) (plist-get a :kind)) :test #'equal)))
       (enclave-test-put "actions_at_finding"
                         (vconcat (mapcar #'enclave-test-action-summary actions)))
       (when fix
         (goto-char beg)
         (enclave-test-choose (plist-get fix :title)
                              (lambda () (eglot-code-actions beg end nil t)))
         (enclave-test-put "line_after_fix"
                           (save-excursion (goto-char (point-min)) (forward-line (1- line))
                                           (buffer-substring (line-beginning-position)
                                                             (line-end-position))))
         (enclave-test-wait "the fixed finding leaves Flymake" 30
                            (lambda () (null (enclave-test-enclave-diagnostics))))))
     (enclave-test-put "document" (enclave-test-document-state))
     (enclave-test-put "status" (enclave-status)))))

;;; protocol.el ends here
