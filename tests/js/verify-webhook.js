// Verifies webhook requests with the `standardwebhooks` package: an
// implementation of the signature scheme independent of Blazz's own.
//
// stdin: {"secrets": ["whsec_...", ...],
//         "requests": [{"headers": {"webhook-id": ..., ...}, "body": "..."}, ...]}
// stdout: one entry per request: {"verified_with": [indexes of the secrets
//         that verify it], "errors": [the library's message per secret]}
"use strict";

const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { secrets, requests } = JSON.parse(input);
  const hooks = secrets.map((s) => new Webhook(s));
  const results = requests.map(({ headers, body }) => {
    const verified_with = [];
    const errors = [];
    hooks.forEach((hook, i) => {
      try {
        hook.verify(body, headers);
        verified_with.push(i);
        errors.push(null);
      } catch (e) {
        errors.push(String(e.message || e));
      }
    });
    return { verified_with, errors };
  });
  process.stdout.write(JSON.stringify(results));
});
