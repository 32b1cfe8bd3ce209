// The chat tutor's behaviour in the page: citation links, the selected answer, copy with sources, the
// download of an exported conversation, and the Ask button that waits for a question. Loaded by
// tutor/ui.py in the page head; everything works by delegation, so Gradio re-rendering a message loses nothing.
(() => {
  if (window.tutorChat) return;
  const all = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const narrow = () => window.matchMedia("(max-width: 899px)").matches;

  // The chat's sanitiser keeps only class, href and title: an answer is marked by a class "tutor-a-<n>", a
  // citation link's href is "#tutor-src-<answer>-<n>".
  const answerOf = (el) => {
    const found = Array.from(el.classList).find((c) => /^tutor-a-\d+$/.test(c));
    return found ? found.slice("tutor-a-".length) : null;
  };

  function select(answer) {
    answer = String(answer);
    all(".tutor-answer.tutor-selected").forEach((el) => el.classList.remove("tutor-selected"));
    all(`.tutor-answer.tutor-a-${answer}`).forEach((el) => el.classList.add("tutor-selected"));
    all("#tutor-sources .tutor-answer-sources").forEach((section) => {
      section.hidden = answerOf(section) !== answer;
    });
  }

  function flash(el) {
    if (!el) return;
    el.classList.remove("tutor-flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("tutor-flash");
  }

  function showSource(answer, n) {
    select(answer);
    let card = null;
    if (narrow()) {
      const bubble = document.querySelector(`#tutor-chat .tutor-answer.tutor-a-${answer}`);
      const fold = bubble && bubble.querySelector("details.tutor-inline-sources");
      if (fold) fold.open = true;
      card = fold && fold.querySelector(`.tutor-source.tutor-n-${n}`);
    } else {
      card = document.getElementById(`tutor-src-${answer}-${n}`);
    }
    if (!card) return;
    flash(card);
    flash(card.querySelector("mark"));
    if (!narrow()) {
      card.scrollIntoView({ block: "center", behavior: "smooth" });
      return;
    }
    // On a phone the card is in the chat, which scrolls itself to its end when a fold opens: scroll after it,
    // and move the card as little as possible rather than the whole page.
    const place = () => card.scrollIntoView({ block: "nearest", behavior: "auto" });
    place();
    setTimeout(place, 150);
    setTimeout(place, 400);
  }

  async function copy(link) {
    const source = link.parentElement.querySelector(".tutor-copy-text");
    const decoder = document.createElement("textarea");
    decoder.innerHTML = source ? source.innerHTML.replace(/<br\s*\/?>/gi, "\n") : "";
    const text = decoder.value;
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = link.textContent;
    link.textContent = "Copied";
    setTimeout(() => { link.textContent = label; }, 1500);
  }

  document.addEventListener("click", (event) => {
    const cite = event.target.closest(".tutor-cite");
    if (cite) {
      event.preventDefault();
      event.stopPropagation();
      const target = /tutor-src-(\d+)-(\d+)/.exec(cite.getAttribute("href") || "");
      if (target) showSource(target[1], target[2]);
      return;
    }
    const copier = event.target.closest(".tutor-copy");
    if (copier) {
      event.preventDefault();
      event.stopPropagation();
      copy(copier);
      return;
    }
    const bubble = event.target.closest("#tutor-chat .tutor-answer");
    if (bubble && answerOf(bubble) !== null) select(answerOf(bubble));
  }, true);

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if ((event.key === "Enter" || event.key === " ") && target.matches && target.matches("#tutor-chat .tutor-answer")
        && answerOf(target) !== null) {
      event.preventDefault();
      select(answerOf(target));
    }
    // An empty question is not sent: Enter in an empty box does nothing.
    if (event.key === "Enter" && !event.shiftKey && target.closest && target.closest("#tutor-question")
        && !target.value.trim()) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // The Ask button is enabled only while the box holds a question.
  setInterval(() => {
    const box = document.querySelector("#tutor-question textarea");
    const ask = document.querySelector("#tutor-ask");
    if (!box || !ask) return;
    const empty = !box.value.trim();
    if (ask.disabled !== empty) ask.disabled = empty;
  }, 150);

  window.tutorChat = {
    select,
    showSource,
    download(markdown, name) {
      if (!markdown) return [];
      const url = URL.createObjectURL(new Blob([markdown], { type: "text/markdown;charset=utf-8" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = name || "conversation.md";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      return [];
    },
  };
})();
