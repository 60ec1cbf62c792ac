;;; completion.el --- a block through completion-at-point  -*- lexical-binding: t; -*-

;; The server's scripted fake engine answers with a fixed block of code.  Choosing the item
;; tells Enclave (its local statistics); every workspace/executeCommand sent, by the
;; configuration or by Eglot, is recorded with its answer.  With ENCLAVE_TEST_UI=company the
;; item is chosen in Company's menu (company-capf over Eglot's completion) instead, with
;; ENCLAVE_TEST_UI=corfu in Corfu's popup.

(load (expand-file-name "runner.el" (file-name-directory load-file-name)) nil t)

(defvar enclave-test-executed nil
  "workspace/executeCommand requests, newest first: ((params . P) (answer . A)).")

(defun enclave-test-note-execute (method params)
  "The record of METHOD with PARAMS if it is executeCommand (answer pending), else nil."
  (when (eq method :workspace/executeCommand)
    (let ((entry (list (cons "params" params) (cons "answer" :pending))))
      (push entry enclave-test-executed)
      entry)))

(defun enclave-test-record-execute (request server method params &rest args)
  "Around `jsonrpc-request': record executeCommand's PARAMS and answer (observation only)."
  (let ((entry (enclave-test-note-execute method params))
        (answer (apply request server method params args)))
    (when entry (setcdr (assoc "answer" entry) answer))
    answer))

(defun enclave-test-record-async-execute (request server method params &rest args)
  "Around `jsonrpc-async-request': the same (observation only)."
  (let ((entry (enclave-test-note-execute method params)))
    (if (not entry)
        (apply request server method params args)
      (let ((success (plist-get args :success-fn)))
        (apply request server method params
               :success-fn (lambda (result)
                             (setcdr (assoc "answer" entry) result)
                             (when success (funcall success result)))
               args)))))

(advice-add 'jsonrpc-request :around #'enclave-test-record-execute)
(advice-add 'jsonrpc-async-request :around #'enclave-test-record-async-execute)

(defun enclave-test-complete-with-company ()
  "Company's menu at point (`company-manual-begin'), then RET on its selection."
  (require 'company)
  (company-mode 1)
  (advice-add 'jsonrpc-request :around #'enclave-test-record-completion)
  (unwind-protect
      (progn
        (company-manual-begin)
        (enclave-test-put "company_candidates"
                          (vconcat (mapcar #'substring-no-properties company-candidates)))
        (company-complete-selection))
    (advice-remove 'jsonrpc-request #'enclave-test-record-completion)))

(defun enclave-test-complete-with-corfu ()
  "M-x completion-at-point with `corfu-mode' on: Corfu inserts a single candidate at once,
else shows its popup, where RET inserts the selection (`corfu-insert').  Corfu and its
Compat come from ENCLAVE_CORFU and ENCLAVE_EMACS_COMPAT (checkouts; Corfu is not packaged
for Debian 12)."
  (add-to-list 'load-path (enclave-test-env "ENCLAVE_EMACS_COMPAT"))
  (add-to-list 'load-path (enclave-test-env "ENCLAVE_CORFU"))
  (require 'corfu)
  (corfu-mode 1)
  (advice-add 'jsonrpc-request :around #'enclave-test-record-completion)
  (unwind-protect
      (progn
        (completion-at-point)
        (enclave-test-put "corfu_candidates"
                          (vconcat (mapcar #'substring-no-properties corfu--candidates)))
        (when corfu--candidates (corfu-insert)))
    (advice-remove 'jsonrpc-request #'enclave-test-record-completion)))

(enclave-test-run
 (lambda ()
   (enclave-test-connect)
   ;; Point on the empty, indented line of the body; M-x completion-at-point (or Company).
   (enclave-test-goto "^    $")
   (let ((start (point)))
     (pcase (enclave-test-env "ENCLAVE_TEST_UI" "")
       ("company" (enclave-test-complete-with-company))
       ("corfu" (enclave-test-complete-with-corfu))
       (_ (enclave-test-complete)))
     (enclave-test-put "completion_answer" (car enclave-test-completion-answers))
     (enclave-test-put "inserted" (buffer-substring start (point))))
   (enclave-test-put "buffer" (buffer-string))
   (enclave-test-put "point" (vector (line-number-at-pos) (current-column)))
   (enclave-test-wait-synced "the server has the completed text")
   (enclave-test-wait "the acceptance answered" 30
                      (lambda () (cl-notany (lambda (e) (eq (cdr (assoc "answer" e)) :pending))
                                            enclave-test-executed)))
   ;; Nothing more is sent later: a round-trip, then what was sent and the figures.
   (enclave-test-wait-synced "the server still has the text")
   (enclave-test-put "executed" (vconcat (reverse enclave-test-executed)))
   (enclave-test-put "stats" (plist-get (enclave-status) :stats))
   (call-interactively #'enclave-stats)
   (enclave-test-put "stats_buffer" (with-current-buffer "*Enclave statistics*"
                                      (buffer-string)))))

;;; completion.el ends here
