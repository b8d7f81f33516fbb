import { mount } from "svelte";
import App from "./App.svelte";
import "leaflet/dist/leaflet.css";
import "./app.css";
import "./card.css";

const target = document.getElementById("app");
if (target === null) {
  throw new Error("index.html has no #app element");
}
export default mount(App, { target });
