# pocstack.aws — quick start targets. Every target sets up what it needs.
#   make demo      deploy the plotly PoC on the embedded local AWS emulator
#   make test      unit tests + molecule scenarios (on a separate emulator)
#   make emulator  start the emulator if it is not running
#   make stop      stop the emulator

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINK := .collections/ansible_collections/pocstack/aws
EMULATOR := $(BIN)/python tests/emulator/pocstack_emulator.py
# The demo's emulator; its endpoint is aws_endpoint_url in inventories/local/group_vars/all.
DEMO_PORT ?= 4566
# The tests run their own emulator so that they never touch the demo's state.
TEST_PORT ?= 4567
SERVICE ?= plotly

.PHONY: demo test unit molecule emulator stop setup clean

setup: $(STAMP) $(LINK)

$(STAMP): requirements.txt requirements-test.txt files/app/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# A checkout runs as the collection pocstack.aws through this link (see ansible.cfg).
$(LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

emulator: setup
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) start

stop: setup
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) stop

demo: emulator
	@echo '+ ansible-playbook site.yml -e service=$(SERVICE)'
	@PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(DEMO_PORT) ansible-playbook site.yml -e service=$(SERVICE)
	@echo 'The emulator keeps running: inspect with e.g.'
	@echo '  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url http://127.0.0.1:$(DEMO_PORT) --region us-east-1 elbv2 describe-load-balancers'
	@echo 'make stop stops it.'

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(TEST_PORT) bash tests/run.sh

clean: stop
	rm -rf $(VENV) .collections .pocstack
