// Renders /docs/openapi.json with Swagger UI. The document's servers are relative, so "Try it out" sends to the
// service that served this page. The validator badge is off: it would fetch from validator.swagger.io.
window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  docExpansion: "list",
  filter: true,
});
