"""tutor: an offline question-answering tutor for course material, with cited answers.

    from tutor import Tutor
    tutor = Tutor.load()
    answer = tutor.ask("What is model drift?")
    print(answer.text, answer.citations[0].section)
"""

from tutor.errors import TutorError
from tutor.models import Answer, Chunk, Citation, Section

__all__ = ["Answer", "Chunk", "Citation", "Section", "Tutor", "TutorError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The facade pulls in NumPy and FAISS; `import tutor` (and `tutor --help`) should not wait for them.
    if name == "Tutor":
        from tutor.core import Tutor

        return Tutor
    raise AttributeError(name)
