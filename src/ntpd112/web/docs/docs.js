// Renders /api/openapi.json as a list of operations: method, path, access, parameters, body and responses.
// Plain DOM (textContent only, never innerHTML), no dependencies: the page obeys the service's CSP.
"use strict";

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function resolve(spec, schema) {
  const ref = schema && schema.$ref;
  return ref ? spec.components.schemas[ref.split("/").pop()] : schema;
}

function schemaBlock(spec, title, schema) {
  const block = element("div");
  block.append(element("h4", title), element("pre", JSON.stringify(resolve(spec, schema), null, 2)));
  return block;
}

function operationView(spec, method, path, operation) {
  const view = element("details");
  const summary = element("summary");
  summary.append(element("span", method.toUpperCase(), "method"), element("code", path));
  summary.append(element("span", operation["x-ntpd112-access"], "access"));
  view.append(summary, element("p", operation.summary), element("p", operation.description));
  for (const parameter of operation.parameters || []) {
    view.append(schemaBlock(spec, `${parameter.in} parameter ${parameter.name}`, parameter.schema));
  }
  for (const [type, content] of Object.entries((operation.requestBody || {}).content || {})) {
    view.append(schemaBlock(spec, `body (${type})`, content.schema));
  }
  for (const [status, response] of Object.entries(operation.responses)) {
    const content = Object.values(response.content || {})[0];
    view.append(element("h4", `${status}: ${response.description}`));
    if (content && status < 400) view.append(schemaBlock(spec, "body", content.schema));
  }
  return view;
}

async function render() {
  const main = document.getElementById("operations");
  const response = await fetch("/api/openapi.json");
  const spec = await response.json();
  const groups = new Map();
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const tag = operation.tags[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operationView(spec, method, path, operation));
    }
  }
  main.replaceChildren();
  for (const [tag, views] of groups) main.append(element("h2", tag), ...views);
}

render().catch((error) => {
  document.getElementById("operations").textContent = `Could not load the document: ${error}`;
});
