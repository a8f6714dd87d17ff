// keyward's address and token_transport ("body" or "cookie"); pollMs > 0 makes the protected
// page call /api/me/ again every pollMs milliseconds.
window.KEYWARD_CONFIG = {
  url: "http://localhost:8000",
  transport: "body",
  pollMs: 0,
};
