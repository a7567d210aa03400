// Runs before the page's body is parsed (a classic script in <head>; the CSP allows no inline
// script). A tab with a saved session opens on the user's own page: the static login form in
// index.html is then hidden from the first paint, instead of flashing before the app starts;
// so is it when the login's second step was handed to the second build (src/second_build.rs),
// which asks for a code, not the password again.
// A device where English was chosen (src/i18n.rs saves `"En"`) gets the static form in English.
try {
  if (sessionStorage.getItem("colloque.session") || sessionStorage.getItem("colloque.login-challenge")) {
    document.documentElement.classList.add("signed-in");
  }
  if (localStorage.getItem("colloque.lang") === '"En"') {
    document.documentElement.lang = "en";
    document.documentElement.classList.add("lang-en");
  }
} catch (e) {
  // Storage refused (a privacy mode): show the login form; the app decides once it starts.
}
